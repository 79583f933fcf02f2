/**
 * Invariant 4 with two live attempts of one range. A range is requeued while its first
 * attempt is alive (an operator retry here; a queue-lost reconcile or a stalled worker that
 * wakes up do the same): the first attempt's commit record is still on its way to S3 when the
 * second attempt starts, and the second attempt's worker dies as it uploads. The first
 * attempt's commit record then lands, and the third attempt trusts it: every object it lists
 * must be in S3. (Sluice used to remove the objects of earlier attempts when an attempt began;
 * here that lost the first attempt's records.)
 *
 * Each step is forced through S3 proxies (one per worker), so the interleaving is exact.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { apiClient } from '../helpers/api.ts';
import { verifyEnd } from '../helpers/end-check.ts';
import { FaultRun } from '../helpers/fault-run.ts';
import type { TestTopic } from '../helpers/kafka.ts';
import { produceAll } from '../helpers/load.ts';
import { logged } from '../helpers/process-log.ts';
import { type SluiceProcess, waitFor } from '../helpers/processes.ts';
import { makeEvents } from '../helpers/records.ts';
import type { S3FaultProxy } from '../helpers/s3-fault-proxy.ts';
import type { ZkView } from '../helpers/zk-view.ts';

const run = new FaultRun({
  name: 'fault-two-attempts',
  env: { SLUICE_ZK_SESSION_TIMEOUT_MS: '4000' },
  bucket: 'fault-two-attempts',
});
const { s3, cluster, bucket } = run;
const prefix = 'two';
const proxies: S3FaultProxy[] = [];
let _zk: ZkView;
let topic: TestTopic;

before(async () => {
  for (let i = 0; i < 3; i++) proxies.push(await run.s3Proxy());
  _zk = await run.zkView();
  topic = await run.topic('two-attempts', 1);
});

test('a late commit record of a superseded attempt never lists an object the next attempt removed', async (t) => {
  const produced = makeEvents(1_000, { startMs: Date.now(), spanMs: 1_000, partitions: 1 });
  await produceAll(topic.producer, topic.name, produced);
  const master = await cluster.startMaster();
  const api = apiClient(master.url, cluster.token);
  const [p1, p2, p3] = proxies as [S3FaultProxy, S3FaultProxy, S3FaultProxy];

  // Attempt 1 (worker 1): its commit record is held on the way to S3.
  let releaseFirst: () => void = () => {};
  const firstReleased = new Promise<void>((r) => {
    releaseFirst = r;
  });
  let firstHeld = false;
  p1.rule = (r) => {
    if (r.op === 'PutObject' && r.key.includes('/_sluice/commits/')) {
      firstHeld = true;
      return { kind: 'pass', until: firstReleased };
    }
    return { kind: 'pass' };
  };
  const w1 = await cluster.startWorker({ SLUICE_S3_ENDPOINT: p1.endpoint, SLUICE_WORKER_CONCURRENCY: '1' });
  const res = await api.post('/api/v1/topics', {
    topic: topic.name,
    destination: { bucket, prefix },
    partitionBy: { kind: 'none' },
    maxRangeMessages: 1_000,
    flushIntervalMs: 300,
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  await waitFor('attempt 1 to send its commit record', async () => firstHeld, 30_000, 50);

  // The range is requeued while attempt 1 lives. Attempt 2 (worker 2) removes attempt 1's
  // object and dies before it uploads it again.
  let w2: SluiceProcess | undefined;
  let w2Started: () => void = () => {};
  const w2Up = new Promise<void>((r) => {
    w2Started = r;
  });
  let secondKilled = false;
  p2.rule = (r) => {
    // Worker 2's upload never reaches S3: it dies as it sends it.
    if (secondKilled) return { kind: 'reset' };
    if (r.op === 'PutObject' && !r.key.includes('/_sluice/')) {
      secondKilled = true;
      void w2Up.then(() => w2!.child.kill('SIGKILL'));
      return { kind: 'reset' };
    }
    return { kind: 'pass' };
  };
  const retry = await api.post(`/api/v1/ranges/${topic.name}-0-0-1000/retry`);
  assert.ok(retry.status < 300, JSON.stringify(retry.body));
  w2 = await cluster.startWorker({ SLUICE_S3_ENDPOINT: p2.endpoint, SLUICE_WORKER_CONCURRENCY: '1' });
  w2Started();
  await waitFor('attempt 2 to die as it uploads', async () => w2!.child.signalCode === 'SIGKILL', 30_000, 50);
  assert.ok(secondKilled, 'attempt 2 died as it uploaded the object attempt 1 had written');
  const removedBySecond = p2.count((r) => r.op === 'DeleteObject');

  // Attempt 1's commit record lands now; attempt 1 then finds itself superseded.
  releaseFirst();
  await waitFor(
    'attempt 1 to give up',
    async () => logged(w1, ['attempt superseded', 'range gone']).length > 0,
    30_000,
    100,
  );

  // Attempt 3 (worker 3, after worker 2's session expired) finishes the range.
  await cluster.startWorker({ SLUICE_S3_ENDPOINT: p3.endpoint });
  await verifyEnd({ api, s3, admin: topic.admin, bucket, prefix, topic: topic.name, produced });
  t.diagnostic(
    `attempt 2 removed ${removedBySecond} object(s) before it died; attempt 1's late commit record lists objects that are all in S3; the range is whole`,
  );
});
