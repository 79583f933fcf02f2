/** A topic's mirror group: the default name, a topic's own, off per topic and for the installation. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { groupIdProblem, loadMasterConfig, mirrorGroupOf, ValidationError } from '../src/index.ts';

const ON = { mirrorGroupOffsets: true, mirrorGroupPrefix: 'sluice.' };

test('the group is the prefix and the topic unless the topic names one; null turns it off', () => {
  assert.equal(mirrorGroupOf({ topic: 'orders' }, ON), 'sluice.orders');
  assert.equal(
    mirrorGroupOf({ topic: 'orders' }, { ...ON, mirrorGroupPrefix: 'prod-sluice.' }),
    'prod-sluice.orders',
  );
  assert.equal(mirrorGroupOf({ topic: 'orders', mirrorGroup: 'secor_orders' }, ON), 'secor_orders');
  assert.equal(mirrorGroupOf({ topic: 'orders', mirrorGroup: null }, ON), null);
  assert.equal(
    mirrorGroupOf({ topic: 'orders', mirrorGroup: 'x' }, { ...ON, mirrorGroupOffsets: false }),
    null,
  );
});

test('group ids: 1 to 255 of letters, digits, ".", "_" and "-"', () => {
  assert.equal(groupIdProblem('sluice.orders_v2-eu'), null);
  assert.match(groupIdProblem('')!, /non-empty/);
  assert.match(groupIdProblem('a'.repeat(256))!, /at most 255/);
  assert.match(groupIdProblem('a b')!, /only letters/);
});

const BASE = {
  SLUICE_KAFKA_BROKERS: '127.0.0.1:9092',
  SLUICE_ZOOKEEPER: '127.0.0.1:2181',
  SLUICE_REDIS_URL: 'redis://127.0.0.1:6379',
};

test('SLUICE_MIRROR_GROUP_OFFSETS is on by default; a bad SLUICE_MIRROR_GROUP_PREFIX is refused by name', () => {
  const cfg = loadMasterConfig(BASE);
  assert.equal(cfg.mirrorGroupOffsets, true);
  assert.equal(cfg.mirrorGroupPrefix, 'sluice.');
  assert.equal(loadMasterConfig({ ...BASE, SLUICE_MIRROR_GROUP_OFFSETS: 'false' }).mirrorGroupOffsets, false);
  assert.throws(
    () => loadMasterConfig({ ...BASE, SLUICE_MIRROR_GROUP_PREFIX: 'a/b' }),
    (err: unknown) =>
      err instanceof ValidationError && /SLUICE_MIRROR_GROUP_PREFIX must be up to 64/.test(err.message),
  );
});
