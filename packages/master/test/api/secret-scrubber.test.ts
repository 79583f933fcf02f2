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
  const v = { x: 'y', n: [1, 'topic-a'] };
  assert.deepEqual(scrubSecrets(v, secrets), v);
});

// The AWS documentation's example keys: what a quoting S3 or SDK error would carry.
const KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
const TEMP_KEY_ID = 'ASIAJEXAMPLEXEG2JICEA';
const SECRET_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

test('AWS access key ids and secret keys are hidden though no setting names them', () => {
  const out = scrubSecrets(
    {
      error: `InvalidAccessKeyId: The AWS Access Key Id you provided (${KEY_ID}) does not exist`,
      temp: `credential=${TEMP_KEY_ID.slice(0, 20)}/20261206/us-east-1/s3/aws4_request`,
      secret: `aws_secret_access_key=${SECRET_KEY}`,
      alone: [SECRET_KEY],
    },
    [],
  );
  assert.deepEqual(out, {
    error: 'InvalidAccessKeyId: The AWS Access Key Id you provided (***) does not exist',
    temp: 'credential=***/20261206/us-east-1/s3/aws4_request',
    secret: 'aws_secret_access_key=***',
    alone: ['***'],
  });
});

test('ordinary texts of a status answer are not taken for AWS keys', () => {
  const ordinary = {
    // A hex digest (no capitals), a 40-character name with dashes, an S3 key with a dot.
    sha1: 'da39a3ee5e6b4b0d3255bfef95601890afd80709',
    topic: 'Orders-2026-EU-west-Payments-Refunds-ab1',
    key: 'raw/Orders/dt=2026-12-06/hour=21/p0-00000000000000001234.jsonl.gz',
    words: 'AKIA is the prefix of a key id; ASIAN and AKIAX0 are not key ids',
    longer: `${SECRET_KEY}X`,
  };
  assert.deepEqual(scrubSecrets(ordinary, []), ordinary);
});
