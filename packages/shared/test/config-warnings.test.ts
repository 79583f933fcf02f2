/** Unknown SLUICE_* names are warned about with the closest setting, and never stop a program (pure). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  closestSetting,
  editDistance,
  loadMasterConfig,
  loadWorkerConfig,
  unknownSettingWarnings,
} from '../src/config.ts';

const base = {
  SLUICE_KAFKA_BROKERS: 'k:9092',
  SLUICE_ZOOKEEPER: 'zk:2181/sluice',
  SLUICE_ZOOKEEPER_INSECURE: 'true',
  SLUICE_REDIS_URL: 'redis://r:6379',
};

test('edit distance counts inserts, deletes, replacements and swapped neighbours', () => {
  assert.equal(editDistance('CONCURRENCY', 'CONCURRENCY'), 0);
  assert.equal(editDistance('CONCURENCY', 'CONCURRENCY'), 1);
  assert.equal(editDistance('CONCURRRENCY', 'CONCURRENCY'), 1);
  assert.equal(editDistance('CONCURRENCZ', 'CONCURRENCY'), 1);
  assert.equal(editDistance('CONCURRNECY', 'CONCURRENCY'), 1);
  assert.equal(editDistance('', 'ABC'), 3);
  assert.equal(editDistance('kitten', 'sitting'), 3);
});

test('a mistyped setting gets the closest name; a far one gets none', () => {
  assert.equal(closestSetting('SLUICE_WORKER_CONCURENCY'), 'SLUICE_WORKER_CONCURRENCY');
  assert.equal(closestSetting('SLUICE_KAFKA_BROKER'), 'SLUICE_KAFKA_BROKERS');
  assert.equal(closestSetting('SLUICE_ZOOKEPER'), 'SLUICE_ZOOKEEPER');
  assert.equal(closestSetting('SLUICE_log_level'), 'SLUICE_LOG_LEVEL');
  assert.equal(closestSetting('SLUICE_STALL_TIMOEUT_MS'), 'SLUICE_STALL_TIMEOUT_MS');
  assert.equal(closestSetting('SLUICE_WORKER_JOB_ATTEMPTS'), 'SLUICE_JOB_ATTEMPTS');
  assert.equal(closestSetting('SLUICE_COLOUR'), null);
});

test('the warnings: unknown SLUICE_ names only, sorted, with the closest setting', () => {
  assert.deepEqual(
    unknownSettingWarnings({
      ...base,
      SLUICE_WORKER_CONCURENCY: '4',
      SLUICE_PLAN_INTERVAL: '100',
      SLUICE_COLOUR: 'blue',
      // not SLUICE_: none of Sluice's business
      HOME: '/root',
      AWS_REGION: 'eu-west-1',
      // the local stack's, the CLI's and the scripts': not settings, not mistakes
      SLUICE_STACK_KAFKA_PORT: '19092',
      SLUICE_STACK_ANYTHING_NEW: 'x',
      SLUICE_API_URL: 'http://m:8080',
      SLUICE_DEMO_RATE: '100',
    }),
    [
      'SLUICE_COLOUR is not a setting of sluice-master or sluice-worker (see the Configuration table of README.md); it is ignored',
      'SLUICE_PLAN_INTERVAL is not a setting; did you mean SLUICE_PLAN_INTERVAL_MS?',
      'SLUICE_WORKER_CONCURENCY is not a setting; did you mean SLUICE_WORKER_CONCURRENCY?',
    ],
  );
  assert.deepEqual(unknownSettingWarnings(base), []);
});

test('both programs: a setting of the other program is no warning, and an unknown name never stops a program', () => {
  // One ConfigMap serves both programs: each program's settings are known to the other.
  const both = {
    ...base,
    SLUICE_WORKER_CONCURRENCY: '4',
    SLUICE_PLAN_INTERVAL_MS: '500',
    SLUICE_MASTER_ID: 'm-1',
  };
  assert.deepEqual(unknownSettingWarnings(both), []);
  const typo = { ...both, SLUICE_WORKER_CONCURENCY: '8', SLUICE_STALL_TIMOUT_MS: '5' };
  assert.deepEqual(unknownSettingWarnings(typo), [
    'SLUICE_STALL_TIMOUT_MS is not a setting; did you mean SLUICE_STALL_TIMEOUT_MS?',
    'SLUICE_WORKER_CONCURENCY is not a setting; did you mean SLUICE_WORKER_CONCURRENCY?',
  ]);
  const master = loadMasterConfig(typo);
  assert.equal(master.planIntervalMs, 500);
  assert.equal(master.stallTimeoutMs, 60_000);
  const worker = loadWorkerConfig(typo);
  assert.equal(worker.concurrency, 4);
});
