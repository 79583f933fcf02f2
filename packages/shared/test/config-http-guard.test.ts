/**
 * The settings of the master's HTTP guards (issue 18 points 1 and 4): their defaults, and the
 * combinations refused at start with the setting's name.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configuredSecrets, loadMasterConfig } from '../src/config.ts';

const base = {
  SLUICE_KAFKA_BROKERS: 'k:9092',
  SLUICE_ZOOKEEPER: '127.0.0.1:2181/sluice',
  SLUICE_REDIS_URL: 'redis://r:6379',
};

test('the HTTP guards have sane defaults', () => {
  assert.deepEqual(loadMasterConfig(base).http, {
    metricsToken: '',
    allowedHosts: [],
    requestTimeoutMs: 30_000,
    headersTimeoutMs: 10_000,
    connectionTimeoutMs: 300_000,
    keepAliveTimeoutMs: 5_000,
    maxConnections: 1_000,
    maxRequestsPerSocket: 1_000,
    rateLimitPerMinute: 300,
    auditCacheMs: 60_000,
    auditMaxOffsets: 100_000_000,
  });
});

test('refused at start: a weak metrics token, a headers timeout beyond the request timeout, a bad host name', () => {
  assert.throws(
    () =>
      loadMasterConfig({
        ...base,
        SLUICE_METRICS_TOKEN: 'change-me',
        SLUICE_HTTP_REQUEST_TIMEOUT_MS: '5000',
        SLUICE_HTTP_HEADERS_TIMEOUT_MS: '6000',
        SLUICE_ALLOWED_HOSTS: 'sluice.internal,bad host/',
      }),
    (e: Error) =>
      /SLUICE_METRICS_TOKEN is a placeholder/.test(e.message) &&
      /SLUICE_HTTP_HEADERS_TIMEOUT_MS must not exceed SLUICE_HTTP_REQUEST_TIMEOUT_MS \(5000\)/.test(
        e.message,
      ) &&
      /SLUICE_ALLOWED_HOSTS "bad host\/" is not a host name/.test(e.message),
  );
});

test('allowed hosts are matched without case; the metrics token is a secret like the API token', () => {
  const token = 'f3a9c1d7e5b2046a8c9e1f3b5d7a9c0e';
  const cfg = loadMasterConfig({
    ...base,
    SLUICE_ALLOWED_HOSTS: 'Sluice.Internal, localhost',
    SLUICE_METRICS_TOKEN: token,
  });
  assert.deepEqual(cfg.http.allowedHosts, ['sluice.internal', 'localhost']);
  assert.ok(configuredSecrets(cfg).includes(token));
});
