/**
 * S3 settings refused at start. The S3 client is made at its first request (s3-client.ts), so
 * what the SDK's client would refuse when made must be refused with the settings, naming them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadMasterConfig, loadWorkerConfig } from '../src/config.ts';
import { refusal } from './config-refusal.ts';

const base = {
  SLUICE_KAFKA_BROKERS: 'k:9092',
  SLUICE_ZOOKEEPER: '127.0.0.1:2181/sluice',
  SLUICE_REDIS_URL: 'redis://r:6379',
};

test('an empty S3 region or an endpoint that is not http(s)://host[:port] is refused at start, by name', () => {
  for (const load of [loadMasterConfig, loadWorkerConfig]) {
    assert.match(
      refusal(() => load({ ...base, SLUICE_S3_REGION: ' ' })),
      /SLUICE_S3_REGION must not be empty/,
    );
    assert.match(
      refusal(() => load({ ...base, SLUICE_S3_ENDPOINT: 'minio:9000' })),
      /SLUICE_S3_ENDPOINT must be http\(s\):\/\/host\[:port\]/,
    );
  }
  assert.equal(loadMasterConfig(base).s3.region, 'us-east-1');
});
