/**
 * TLS settings (issue 17): the PEM files for Kafka (CA, client certificate and key) and the
 * CA for a rediss:// Redis are checked at start (readable, of their kind, only where TLS is
 * on, certificate and key together) and reach the clients' options.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadWorkerConfig } from '../src/config.ts';
import { kafkaClientOptions } from '../src/kafka/options.ts';
import { refusal } from './config-refusal.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-config-tls-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A file holding `content`, its path. */
function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content, { mode: 0o600 });
  return path;
}

// Only the armour lines matter to the settings check; the TLS handshake reads the rest.
const ca = file('ca.crt', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
const cert = file('client.crt', '-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n');
const key = file('client.key', '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n');
const base = {
  SLUICE_KAFKA_BROKERS: '127.0.0.1:9093',
  SLUICE_ZOOKEEPER: '127.0.0.1:2181/sluice',
  SLUICE_REDIS_URL: 'redis://127.0.0.1:6379',
};
const tls = { SLUICE_KAFKA_SSL: 'true', SLUICE_KAFKA_SSL_CA_FILE: ca };

test('the CA, certificate and key files reach the Kafka client as PEM bytes', () => {
  const cfg = loadWorkerConfig({
    ...base,
    ...tls,
    SLUICE_KAFKA_SSL_CERT_FILE: cert,
    SLUICE_KAFKA_SSL_KEY_FILE: key,
  });
  assert.deepEqual(cfg.kafkaSslFiles, { ca, cert, key });
  const options = kafkaClientOptions(cfg);
  assert.match(String(options.tls?.ca), /BEGIN CERTIFICATE-----\nMIIB/);
  assert.match(String(options.tls?.cert), /BEGIN CERTIFICATE-----\nMIIC/);
  assert.match(String(options.tls?.key), /BEGIN PRIVATE KEY/);
  // Brokers given by address: no server name is sent (Node checks the address itself).
  assert.equal(options.tlsServerName, false);
  const byName = kafkaClientOptions({ ...cfg, kafkaBrokers: ['kafka-0.kafka:9093'] });
  assert.equal(byName.tlsServerName, true);
});

test('without the files, TLS trusts Node’s CAs and sends no client certificate', () => {
  const options = kafkaClientOptions(loadWorkerConfig({ ...base, SLUICE_KAFKA_SSL: 'true' }));
  assert.deepEqual(options.tls, {});
});

test('a TLS file without SLUICE_KAFKA_SSL=true is refused (it would be unused)', () => {
  const message = refusal(() => loadWorkerConfig({ ...base, SLUICE_KAFKA_SSL_CA_FILE: ca }));
  assert.match(
    message,
    /SLUICE_KAFKA_SSL_CA_FILE is set but SLUICE_KAFKA_SSL is not true; set SLUICE_KAFKA_SSL=true/,
  );
});

test('a client certificate without its key is refused, naming the key setting', () => {
  const message = refusal(() => loadWorkerConfig({ ...base, ...tls, SLUICE_KAFKA_SSL_CERT_FILE: cert }));
  assert.match(message, /SLUICE_KAFKA_SSL_KEY_FILE is required with SLUICE_KAFKA_SSL_CERT_FILE/);
});

test('a missing file, a file of the wrong kind and an encrypted key are refused, naming the file', () => {
  const missing = join(dir, 'not-mounted.crt');
  assert.match(
    refusal(() => loadWorkerConfig({ ...base, SLUICE_KAFKA_SSL: 'true', SLUICE_KAFKA_SSL_CA_FILE: missing })),
    new RegExp(`SLUICE_KAFKA_SSL_CA_FILE names the file ${missing}, which does not exist`),
  );
  assert.match(
    refusal(() => loadWorkerConfig({ ...base, SLUICE_KAFKA_SSL: 'true', SLUICE_KAFKA_SSL_CA_FILE: key })),
    new RegExp(`SLUICE_KAFKA_SSL_CA_FILE names ${key}, which holds no PEM certificate`),
  );
  const encrypted = file(
    'encrypted.key',
    '-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIF\n-----END ENCRYPTED PRIVATE KEY-----\n',
  );
  assert.match(
    refusal(() =>
      loadWorkerConfig({
        ...base,
        ...tls,
        SLUICE_KAFKA_SSL_CERT_FILE: cert,
        SLUICE_KAFKA_SSL_KEY_FILE: encrypted,
      }),
    ),
    /SLUICE_KAFKA_SSL_KEY_FILE names .*an encrypted key, which Sluice cannot unlock/,
  );
});

test('SLUICE_REDIS_TLS_CA_FILE goes with a rediss:// URL only', () => {
  const cfg = loadWorkerConfig({
    ...base,
    SLUICE_REDIS_URL: 'rediss://127.0.0.1:6380',
    SLUICE_REDIS_TLS_CA_FILE: ca,
  });
  assert.equal(cfg.redisTlsCaFile, ca);
  assert.match(
    refusal(() => loadWorkerConfig({ ...base, SLUICE_REDIS_TLS_CA_FILE: ca })),
    /SLUICE_REDIS_TLS_CA_FILE is set but SLUICE_REDIS_URL is not rediss:\/\//,
  );
});

test('oauthbearer takes its token from a file that must exist, and sends it as the token', async () => {
  const token = file('token', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJzbHVpY2UifQ.\n');
  const oauth = { ...base, SLUICE_KAFKA_SASL_MECHANISM: 'oauthbearer' };
  assert.match(
    refusal(() => loadWorkerConfig(oauth)),
    /SLUICE_KAFKA_SASL_OAUTHBEARER_TOKEN_FILE is required/,
  );
  const missing = join(dir, 'no-token');
  assert.match(
    refusal(() => loadWorkerConfig({ ...oauth, SLUICE_KAFKA_SASL_OAUTHBEARER_TOKEN_FILE: missing })),
    new RegExp(`SLUICE_KAFKA_SASL_OAUTHBEARER_TOKEN_FILE names the file ${missing}, which does not exist`),
  );
  const cfg = loadWorkerConfig({ ...oauth, SLUICE_KAFKA_SASL_OAUTHBEARER_TOKEN_FILE: token });
  const sasl = kafkaClientOptions(cfg).sasl;
  assert.equal(sasl?.mechanism, 'OAUTHBEARER');
  const provider = sasl?.token;
  assert.ok(typeof provider === 'function', 'the token is a provider, called for each connection');
  // Read at each connection: a renewed file gives the new token.
  writeFileSync(token, 'renewed.token.\n');
  assert.equal(await provider(), 'renewed.token.');
});
