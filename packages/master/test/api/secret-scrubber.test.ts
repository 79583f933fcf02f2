/** Secrets never leave in an answer (pure). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configuredSecrets, scrubSecrets } from '../../src/api/secret-scrubber.ts';

test('the secrets of the settings are found and replaced wherever they appear', () => {
  const secrets = configuredSecrets({
    redisUrl: 'redis://:hunter2%21@redis:6379/0',
    kafkaSasl: { mechanism: 'plain', username: 'sluice', password: 'kafka-pw-123' },
    zookeeperDigest: 'zkuser:zk-secret-9',
    apiTokens: ['tok-abcdef'],
  });
  assert.ok(secrets.includes('hunter2!') && secrets.includes('hunter2%21'));
  assert.ok(
    secrets.includes('kafka-pw-123') && secrets.includes('zk-secret-9') && secrets.includes('tok-abcdef'),
  );
  const out = scrubSecrets(
    {
      a: 'auth failed for hunter2! at redis',
      b: ['kafka-pw-123'],
      c: { d: 'zkuser:zk-secret-9' },
      n: 3,
      z: null,
    },
    secrets,
  );
  assert.deepEqual(out, { a: 'auth failed for *** at redis', b: ['***'], c: { d: '***' }, n: 3, z: null });
});

test('nothing configured: answers are left as they are', () => {
  const secrets = configuredSecrets({
    redisUrl: 'redis://r:6379',
    kafkaSasl: null,
    zookeeperDigest: '',
    apiTokens: [],
  });
  assert.deepEqual(secrets, []);
  const v = { x: 'y' };
  assert.equal(scrubSecrets(v, secrets), v);
});
