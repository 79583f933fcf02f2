/**
 * The master's metrics as an alerting rule reads them: which release runs, and that a master
 * that stops leading reports none of the leader's numbers (a standby must not hold up a stale
 * series that an alert would compare against).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SLUICE_VERSION } from '@sluice/shared';
import { topicRecord } from '@sluice/test-kit';
import { MasterMetrics } from '../../src/status/metrics.ts';

test('sluice_build_info names the release and the Node.js version, leader or not', async () => {
  const m = new MasterMetrics({ defaultMetrics: false });
  const line = `sluice_build_info{version="${SLUICE_VERSION}",node="${process.version}"} 1`;
  assert.ok((await m.registry.metrics()).includes(line));
  m.leader(false);
  assert.ok((await m.registry.metrics()).includes(line));
});

test('flush intervals only for topics expected to move; a deposed leader clears the leader gauges', async () => {
  const m = new MasterMetrics({ defaultMetrics: false });
  m.leader(true);
  m.passIntervalSeconds.set(5);
  m.liveWorkers.set(3);
  m.topicSettings([
    topicRecord('orders', { flushIntervalMs: 60_000 }),
    topicRecord('paused', { paused: true }),
    topicRecord('gone', { state: 'stopped' }),
  ]);
  m.rangeStates(['orders'], [{ topic: 'orders', state: 'failed' }]);
  let text = await m.registry.metrics();
  assert.match(text, /^sluice_topic_flush_interval_seconds\{topic="orders"\} 60$/m);
  assert.doesNotMatch(text, /sluice_topic_flush_interval_seconds\{topic="(paused|gone)"/);
  assert.match(text, /^sluice_gaps_offsets_total\{topic="paused"\} 0$/m, 'a gap counter from 0');
  assert.match(text, /^sluice_ranges\{topic="orders",state="failed"\} 1$/m);
  assert.match(text, /^sluice_ranges\{topic="orders",state="active"\} 0$/m);

  m.leader(false);
  text = await m.registry.metrics();
  for (const name of ['sluice_ranges', 'sluice_topic_flush_interval_seconds'])
    assert.doesNotMatch(text, new RegExp(`^${name}\\{`, 'm'), `${name} has no series on a standby`);
  // Gauges without labels always have a sample: 0 on a standby (the rules join them with
  // sluice_is_leader == 1).
  assert.match(text, /^sluice_leader_pass_interval_seconds 0$/m);
  assert.match(text, /^sluice_live_workers 0$/m);
  assert.match(text, /^sluice_is_leader 0$/m);
});
