/**
 * Every secret setting can come from a file (`{name}_FILE`, issue 18 point 8), through the one
 * mechanism of the settings table: the value is the file's content without its final line
 * break; setting both, or naming a file that cannot be read or is empty, stops the start with
 * the setting's name (and the file's path), never with the secret.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  configuredSecrets,
  loadMasterConfig,
  loadWorkerConfig,
  SETTING_TABLE,
  secretFileSetting,
  unknownSettingWarnings,
} from '../src/config.ts';
import { refusal } from './config-refusal.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-secret-files-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const base = {
  SLUICE_KAFKA_BROKERS: 'k:9092',
  SLUICE_ZOOKEEPER: '127.0.0.1:2181/sluice',
  SLUICE_REDIS_URL: 'redis://127.0.0.1:6379',
};

let n = 0;
/** A file holding `content`, its path. */
function secretFile(content: string): string {
  const path = join(dir, `secret-${++n}`);
  writeFileSync(path, content, { mode: 0o600 });
  return path;
}

const token = () => randomBytes(32).toString('hex');

test('every secret setting of the table has a _FILE form, and no other setting has one', () => {
  const withFile = SETTING_TABLE.filter((s) => s.secret).map(secretFileSetting);
  assert.deepEqual(withFile.sort(), [
    'SLUICE_API_TOKEN_FILE',
    'SLUICE_KAFKA_SASL_PASSWORD_FILE',
    'SLUICE_METRICS_TOKEN_FILE',
    'SLUICE_REDIS_URL_FILE',
    'SLUICE_SCHEMA_REGISTRY_PASSWORD_FILE',
    'SLUICE_ZOOKEEPER_DIGEST_FILE',
  ]);
  // A _FILE name is known: no "is not a setting" warning; a non-secret's _FILE is unknown.
  assert.deepEqual(
    unknownSettingWarnings({ ...base, SLUICE_API_TOKEN_FILE: '/x', SLUICE_REDIS_URL_FILE: '/y' }),
    [],
  );
  assert.equal(unknownSettingWarnings({ SLUICE_QUEUE_PREFIX_FILE: '/x' }).length, 1);
});

test('each secret is read from its file, without the final line break', () => {
  const [t1, t2, zk, kafka] = [token(), token(), `sluice:${token()}`, `kafka-${token()}`];
  const redis = `redis://:${token()}@redis.prod:6379/1`;
  const env = {
    ...base,
    SLUICE_REDIS_URL: '',
    SLUICE_API_TOKEN_FILE: secretFile(`${t1},${t2}\n`),
    SLUICE_ZOOKEEPER_DIGEST_FILE: secretFile(`${zk}\r\n`),
    SLUICE_KAFKA_SASL_MECHANISM: 'scram-sha-512',
    SLUICE_KAFKA_SASL_USERNAME: 'sluice',
    SLUICE_KAFKA_SASL_PASSWORD_FILE: secretFile(kafka),
    SLUICE_REDIS_URL_FILE: secretFile(`${redis}\n\n`),
  };
  const m = loadMasterConfig(env);
  assert.deepEqual(m.apiTokens, [t1, t2]);
  assert.equal(m.zookeeperDigest, zk);
  assert.equal(m.kafkaSasl?.password, kafka);
  assert.equal(m.redisUrl, redis);
  // Secrets from files are hidden like those from the environment.
  for (const s of [t1, t2, zk, kafka]) assert.ok(configuredSecrets(m).includes(s));
  const w = loadWorkerConfig(env);
  assert.equal(w.zookeeperDigest, zk);
  assert.equal(w.kafkaSasl?.password, kafka);
  assert.equal(w.redisUrl, redis);
});

test('a secret set both ways is refused, naming both settings and neither value', () => {
  const [inEnv, inFile] = [token(), token()];
  const m = refusal(() =>
    loadMasterConfig({ ...base, SLUICE_API_TOKEN: inEnv, SLUICE_API_TOKEN_FILE: secretFile(inFile) }),
  );
  assert.match(m, /SLUICE_API_TOKEN and SLUICE_API_TOKEN_FILE are both set; set only one of them/);
  assert.ok(!m.includes(inEnv) && !m.includes(inFile), 'the message repeats no secret');
  const w = refusal(() =>
    loadWorkerConfig({
      ...base,
      SLUICE_ZOOKEEPER_DIGEST: 'a:b',
      SLUICE_ZOOKEEPER_DIGEST_FILE: secretFile('a:b'),
    }),
  );
  assert.match(w, /sluice-worker cannot start/);
  assert.match(w, /SLUICE_ZOOKEEPER_DIGEST and SLUICE_ZOOKEEPER_DIGEST_FILE are both set/);
  // An empty value is not set: the file is then the one source.
  const t = token();
  assert.deepEqual(
    loadMasterConfig({ ...base, SLUICE_API_TOKEN: '', SLUICE_API_TOKEN_FILE: secretFile(t) }).apiTokens,
    [t],
  );
});

test('a missing, unreadable or empty file stops the start, naming the setting and the file', () => {
  const missing = join(dir, 'no-such-file');
  const m = refusal(() => loadMasterConfig({ ...base, SLUICE_API_TOKEN_FILE: missing }));
  assert.match(m, new RegExp(`SLUICE_API_TOKEN_FILE names the file ${missing}, which does not exist`));
  const folder = refusal(() => loadWorkerConfig({ ...base, SLUICE_ZOOKEEPER_DIGEST_FILE: dir }));
  assert.match(folder, new RegExp(`SLUICE_ZOOKEEPER_DIGEST_FILE names the file ${dir}, which is a folder`));
  const empty = refusal(() =>
    loadWorkerConfig({
      ...base,
      SLUICE_KAFKA_SASL_MECHANISM: 'plain',
      SLUICE_KAFKA_SASL_USERNAME: 'u',
      SLUICE_KAFKA_SASL_PASSWORD_FILE: secretFile('\n'),
    }),
  );
  assert.match(empty, /SLUICE_KAFKA_SASL_PASSWORD_FILE names the file .*, which is empty/);
  // One problem for the file, not a second "is required" for the setting it stands for.
  assert.doesNotMatch(empty, /SLUICE_KAFKA_SASL_PASSWORD is required/);
  const redis = refusal(() =>
    loadWorkerConfig({ ...base, SLUICE_REDIS_URL: '', SLUICE_REDIS_URL_FILE: missing }),
  );
  assert.match(redis, /SLUICE_REDIS_URL_FILE names the file/);
  assert.doesNotMatch(redis, /SLUICE_REDIS_URL is required/);
});

test("a secret from a file is checked like one from the environment, and the message never shows the file's content", () => {
  const weak = 'change-me-change-me-change-me-change-me';
  const m = refusal(() => loadMasterConfig({ ...base, SLUICE_API_TOKEN_FILE: secretFile(`${weak}\n`) }));
  assert.match(m, /SLUICE_API_TOKEN token 1 of 1 is a placeholder/);
  assert.ok(!m.includes(weak));
  const bad = `nocolon${token()}`;
  const zk = refusal(() => loadWorkerConfig({ ...base, SLUICE_ZOOKEEPER_DIGEST_FILE: secretFile(bad) }));
  assert.match(zk, /SLUICE_ZOOKEEPER_DIGEST must be user:password/);
  assert.ok(!zk.includes(bad));
});

test("a program does not read the other program's secret files (one ConfigMap serves both)", () => {
  const missing = join(dir, 'not-mounted-here');
  assert.deepEqual(loadWorkerConfig({ ...base, SLUICE_API_TOKEN_FILE: missing }).apiTokens, []);
  assert.match(
    refusal(() => loadMasterConfig({ ...base, SLUICE_API_TOKEN_FILE: missing })),
    /SLUICE_API_TOKEN_FILE names the file/,
  );
});

test("the Schema Registry's password comes from its file; a user without a password or a URL that is not http(s) is refused", () => {
  const password = token();
  const cfg = loadWorkerConfig({
    ...base,
    SLUICE_SCHEMA_REGISTRY_URL: 'https://registry.internal:8081/',
    SLUICE_SCHEMA_REGISTRY_USERNAME: 'sluice',
    SLUICE_SCHEMA_REGISTRY_PASSWORD_FILE: secretFile(`${password}\n`),
  });
  assert.deepEqual(cfg.schemaRegistry, {
    url: 'https://registry.internal:8081',
    username: 'sluice',
    password,
    caFile: '',
  });
  assert.ok(configuredSecrets(cfg).includes(password));
  const lonely = refusal(() =>
    loadWorkerConfig({
      ...base,
      SLUICE_SCHEMA_REGISTRY_URL: 'http://r:8081',
      SLUICE_SCHEMA_REGISTRY_USERNAME: 'u',
    }),
  );
  assert.match(lonely, /SLUICE_SCHEMA_REGISTRY_PASSWORD is required with SLUICE_SCHEMA_REGISTRY_USERNAME/);
  const notHttp = refusal(() => loadWorkerConfig({ ...base, SLUICE_SCHEMA_REGISTRY_URL: 'registry:8081' }));
  assert.match(notHttp, /SLUICE_SCHEMA_REGISTRY_URL must be an http:\/\/ or https:\/\/ URL/);
});
