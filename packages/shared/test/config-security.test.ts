/**
 * What the programs refuse at start for security (issue 18 points 2 and 3), pure: API tokens
 * that are short or placeholders (master), and ZooKeeper without digest auth when it is not on
 * loopback unless SLUICE_ZOOKEEPER_INSECURE says so (both programs), and the warning each
 * logs whenever it runs without digest auth.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { isLoopbackHost, loadMasterConfig, loadWorkerConfig, securityWarnings } from '../src/config.ts';
import { refusal } from './config-refusal.ts';

const strong = () => randomBytes(32).toString('hex');
const base = {
  SLUICE_KAFKA_BROKERS: 'k:9092',
  SLUICE_ZOOKEEPER: '127.0.0.1:2181/sluice',
  SLUICE_REDIS_URL: 'redis://r:6379',
};
const loaders = { master: loadMasterConfig, worker: loadWorkerConfig } as const;

test('the master refuses short and placeholder API tokens, each one, saying how to make one', () => {
  for (const weak of [
    'change-me',
    'changeme',
    'secret',
    'token',
    'password',
    'test',
    'example',
    'dev-token',
    'abc123',
    'CHANGE-ME-CHANGE-ME-CHANGE-ME-CHANGE-ME',
    'test-token-0123456789-0123456789-0123',
    'a'.repeat(64),
    'ab'.repeat(32),
    strong().slice(0, 31),
  ]) {
    const m = refusal(() => loadMasterConfig({ ...base, SLUICE_API_TOKEN: weak }));
    assert.match(m, /sluice-master cannot start/);
    assert.match(m, /SLUICE_API_TOKEN token 1 of 1 /, weak);
    assert.match(m, /openssl rand -hex 32/, weak);
    // The token is a secret: the message never repeats it (short ones are ordinary words).
    if (weak.length >= 12) assert.ok(!m.includes(weak), `the message does not repeat ${weak}`);
  }
  const short = refusal(() =>
    loadMasterConfig({ ...base, SLUICE_API_TOKEN: `${strong()},0123456789abcdef` }),
  );
  assert.match(short, /SLUICE_API_TOKEN token 2 of 2 is 16 characters, fewer than the 32 required/);
  assert.doesNotMatch(short, /token 1 of 2/);
  const placeholder = refusal(() => loadMasterConfig({ ...base, SLUICE_API_TOKEN: 'change-me' }));
  assert.match(placeholder, /is a placeholder anyone would guess/);
});

test('strong API tokens, one or several, are accepted; none is a read-only API', () => {
  const [a, b] = [strong(), strong()];
  assert.deepEqual(loadMasterConfig({ ...base, SLUICE_API_TOKEN: `${a}, ${b}` }).apiTokens, [a, b]);
  // 32 characters exactly, and base64 as well as hex.
  const b64 = randomBytes(24).toString('base64');
  assert.deepEqual(loadMasterConfig({ ...base, SLUICE_API_TOKEN: b64 }).apiTokens, [b64]);
  assert.deepEqual(loadMasterConfig({ ...base }).apiTokens, []);
  // The worker does not use the master's token, so it neither reads nor judges it.
  assert.deepEqual(loadWorkerConfig({ ...base, SLUICE_API_TOKEN: 'change-me' }).apiTokens, []);
});

test('both programs refuse ZooKeeper off loopback without digest auth, naming both ways out', () => {
  for (const [program, load] of Object.entries(loaders)) {
    for (const zk of [
      'zk-0:2181,zk-1:2181/sluice',
      '127.0.0.1:2181,10.0.0.7:2181',
      'localhost.evil.com:2181',
    ]) {
      const m = refusal(() => load({ ...base, SLUICE_ZOOKEEPER: zk }));
      assert.match(m, new RegExp(`sluice-${program} cannot start`));
      assert.match(m, /SLUICE_ZOOKEEPER_DIGEST is not set and ZooKeeper \(.+\) is not on loopback/);
      assert.match(m, /Set SLUICE_ZOOKEEPER_DIGEST=user:password/);
      assert.match(m, /SLUICE_ZOOKEEPER_INSECURE=true/);
    }
    const only = refusal(() => load({ ...base, SLUICE_ZOOKEEPER: '127.0.0.1:2181,10.0.0.7:2181' }));
    assert.match(only, /ZooKeeper \(10\.0\.0\.7:2181\) is not on loopback/);
    // Digest auth, or the explicit opt-out, lets it start.
    const remote = { ...base, SLUICE_ZOOKEEPER: 'zk-0:2181/sluice' };
    assert.equal(load({ ...remote, SLUICE_ZOOKEEPER_DIGEST: 'sluice:pw' }).zookeeperDigest, 'sluice:pw');
    assert.equal(load({ ...remote, SLUICE_ZOOKEEPER_INSECURE: 'true' }).zookeeper, 'zk-0:2181/sluice');
    assert.match(
      refusal(() => load({ ...remote, SLUICE_ZOOKEEPER_INSECURE: 'false' })),
      /SLUICE_ZOOKEEPER_DIGEST is not set/,
    );
    assert.match(
      refusal(() => load({ ...remote, SLUICE_ZOOKEEPER_DIGEST: 'no-colon' })),
      /SLUICE_ZOOKEEPER_DIGEST must be user:password/,
    );
    // Loopback needs neither.
    for (const zk of ['127.0.0.1:2181', '127.8.9.10:2181/x', 'localhost:2181', '[::1]:2181'])
      assert.equal(load({ ...base, SLUICE_ZOOKEEPER: zk }).zookeeper, zk);
  }
});

test('loopback hosts are 127.0.0.0/8, ::1 and localhost only', () => {
  for (const h of ['127.0.0.1:2181', '127.255.0.1:1', 'localhost:2181', 'LOCALHOST:2181', '[::1]:2181'])
    assert.ok(isLoopbackHost(h), h);
  for (const h of [
    '128.0.0.1:2181',
    '10.0.0.1:2181',
    'localhost.example.com:2181',
    '127.0.0.1.nip.io:2181',
    'zk:2181',
  ])
    assert.ok(!isLoopbackHost(h), h);
});

test('without digest auth each program warns loudly at start; with it, not', () => {
  for (const load of Object.values(loaders)) {
    const [onLoopback] = securityWarnings(load({ ...base }));
    assert.match(
      onLoopback!,
      /^INSECURE: running without ZooKeeper digest auth \(ZooKeeper is on loopback\)/,
    );
    assert.match(onLoopback!, /set SLUICE_ZOOKEEPER_DIGEST=user:password in production/);
    const [optedOut] = securityWarnings(
      load({ ...base, SLUICE_ZOOKEEPER: 'zk:2181', SLUICE_ZOOKEEPER_INSECURE: 'yes' }),
    );
    assert.match(optedOut!, /\(SLUICE_ZOOKEEPER_INSECURE is set\)/);
    const withDigest = {
      ...base,
      SLUICE_ZOOKEEPER_DIGEST: 'u:p',
      SLUICE_REDIS_URL: 'redis://127.0.0.1:6379',
    };
    assert.deepEqual(securityWarnings(load(withDigest)), []);
  }
});

test('a Redis off loopback without a password is a warning naming SLUICE_REDIS_URL; with one, or on loopback, not', () => {
  const digest = { ...base, SLUICE_ZOOKEEPER_DIGEST: 'u:p' };
  for (const load of Object.values(loaders)) {
    const open = securityWarnings(load({ ...digest, SLUICE_REDIS_URL: 'redis://redis.prod:6380/2' }));
    assert.equal(open.length, 1, open.join('\n'));
    assert.match(
      open[0]!,
      /^INSECURE: Redis \(redis\.prod\) is not on loopback and SLUICE_REDIS_URL has no password/,
    );
    assert.match(
      open[0]!,
      /set SLUICE_REDIS_URL=rediss:\/\/:password@redis\.prod:6380 \(a password, and TLS/,
    );
    // A user name alone is no password (Redis ACL users have one each).
    assert.equal(
      securityWarnings(load({ ...digest, SLUICE_REDIS_URL: 'rediss://sluice@10.0.0.5' })).length,
      1,
    );
    for (const quiet of [
      'redis://:s3cret-pw@redis.prod:6379',
      'rediss://sluice:s3cret-pw@10.0.0.5:6379',
      'redis://127.0.0.1:16379',
      'redis://localhost',
      'redis://[::1]:6379',
    ])
      assert.deepEqual(securityWarnings(load({ ...digest, SLUICE_REDIS_URL: quiet })), [], quiet);
  }
});
