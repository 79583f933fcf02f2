/**
 * Kafka and Redis security on the real stack (issue 17, "Kafka security, tested"): a master
 * and a worker that know only a secured listener move a topic to S3 exactly once through each
 * of the stack's secured Kafka listeners (TLS, SASL_SSL with SCRAM-SHA-512, mutual TLS), one
 * of them with its queue on Redis over TLS (rediss://); the other SASL mechanisms the
 * listener offers (SCRAM-SHA-256, PLAIN, OAUTHBEARER) authenticate; and settings that cannot work (a wrong password, a
 * certificate no configured CA vouches for, a listener that wants a client certificate)
 * stop the programs at start with a code and a message that says which.
 *
 * The stack makes the listeners (deploy/local/stack.sh); their addresses, the CA, the client
 * certificate and the SASL user come from stack.env (loadStackSecurity).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { checkKafkaAccess, createRedis } from '@sluice/shared';
import { loadStackSecurity } from '@sluice/test-kit';
import { apiClient } from '../helpers/api.ts';
import { waitCommitted } from '../helpers/end-check.ts';
import { createTopic, highWatermarks, kafkaClient, type TestTopic } from '../helpers/kafka.ts';
import { produceAll } from '../helpers/load.ts';
import { TestCluster, uniqueName } from '../helpers/processes.ts';
import { makeEvents, verifyExactlyOnce } from '../helpers/records.ts';
import { createBucket, s3Client } from '../helpers/s3.ts';

const sec = loadStackSecurity();
const kafka = kafkaClient();
const s3 = s3Client();
const bucket = uniqueName('it-kafka-security').toLowerCase();
const topics: TestTopic[] = [];
const dir = mkdtempSync(join(tmpdir(), 'sluice-kafka-security-'));
let dropBucket: () => Promise<void>;

/**
 * A file holding an unsigned OAUTHBEARER token (alg "none", which the stack's broker accepts
 * through Kafka's unsecured validator) for user `sluice`, expiring `expiresInS` from now.
 */
function tokenFile(name: string, expiresInS: number): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const path = join(dir, name);
  writeFileSync(
    path,
    `${b64({ alg: 'none' })}.${b64({ sub: 'sluice', iat: now - 7200, exp: now + expiresInS })}.\n`,
    {
      mode: 0o600,
    },
  );
  return path;
}

/** The settings for each secured listener, as an operator would write them. */
const LISTENERS = {
  tls: {
    SLUICE_KAFKA_BROKERS: sec.kafkaTlsBrokers,
    SLUICE_KAFKA_SSL: 'true',
    SLUICE_KAFKA_SSL_CA_FILE: sec.caFile,
  },
  'sasl-scram-sha-512': {
    SLUICE_KAFKA_BROKERS: sec.kafkaSaslBrokers,
    SLUICE_KAFKA_SSL: 'true',
    SLUICE_KAFKA_SSL_CA_FILE: sec.caFile,
    SLUICE_KAFKA_SASL_MECHANISM: 'scram-sha-512',
    SLUICE_KAFKA_SASL_USERNAME: sec.kafkaSaslUsername,
    SLUICE_KAFKA_SASL_PASSWORD: sec.kafkaSaslPassword,
  },
  mtls: {
    SLUICE_KAFKA_BROKERS: sec.kafkaMtlsBrokers,
    SLUICE_KAFKA_SSL: 'true',
    SLUICE_KAFKA_SSL_CA_FILE: sec.caFile,
    SLUICE_KAFKA_SSL_CERT_FILE: sec.clientCertFile,
    SLUICE_KAFKA_SSL_KEY_FILE: sec.clientKeyFile,
  },
} satisfies Record<string, Record<string, string>>;

before(async () => {
  dropBucket = (await createBucket(s3, bucket)).delete;
});

after(async () => {
  for (const t of topics) await t.delete();
  await dropBucket?.();
  rmSync(dir, { recursive: true, force: true });
});

for (const [listener, settings] of Object.entries(LISTENERS)) {
  // The TLS cluster also keeps its queue on Redis's TLS port: BullMQ's connections over rediss://.
  const redis: Record<string, string> =
    listener === 'tls' ? { SLUICE_REDIS_URL: sec.redisTlsUrl, SLUICE_REDIS_TLS_CA_FILE: sec.caFile } : {};
  describe(`through the ${listener} listener${listener === 'tls' ? ', queue on rediss://' : ''}`, () => {
    const cluster = new TestCluster({ name: `kafka-${listener}`, env: { ...settings, ...redis } });
    after(() => cluster.stopAll());

    test('a master and a worker move a topic to S3 exactly once', async () => {
      const master = await cluster.startMaster();
      await cluster.startWorker();
      const t = await createTopic(kafka, uniqueName(`secured-${listener}`), 2);
      topics.push(t);
      const produced = makeEvents(3_000, { startMs: Date.now(), spanMs: 60_000, partitions: 2 });
      await produceAll(t.producer, t.name, produced);
      const hw = await highWatermarks(t.admin, t.name);
      const api = apiClient(master.url, cluster.token);
      const res = await api.post('/api/v1/topics', {
        topic: t.name,
        destination: { bucket, prefix: listener },
        maxRangeMessages: 500,
        flushIntervalMs: 1000,
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      await waitCommitted(api, t.name, hw);
      await verifyExactlyOnce({ s3, bucket, prefix: listener, topic: t.name, produced, highWatermarks: hw });
      if (listener === 'tls') {
        const ready = await api.get('/readyz');
        assert.equal(
          ready.status,
          200,
          `the master's Redis over TLS is ready: ${JSON.stringify(ready.body)}`,
        );
      }
    });
  });
}

describe('the SASL_SSL listener', () => {
  for (const mechanism of ['scram-sha-256', 'plain'] as const) {
    test(`authenticates with ${mechanism}`, async () => {
      const answer = await checkKafkaAccess({
        kafkaBrokers: [sec.kafkaSaslBrokers],
        kafkaClientId: 'sluice-test',
        kafkaSsl: true,
        kafkaSslFiles: { ca: sec.caFile, cert: '', key: '' },
        kafkaSasl: { mechanism, username: sec.kafkaSaslUsername, password: sec.kafkaSaslPassword },
      });
      assert.equal(answer, null, 'Kafka answered');
    });
  }

  test('authenticates with oauthbearer, the token read from its file', async () => {
    const answer = await checkKafkaAccess({
      kafkaBrokers: [sec.kafkaSaslBrokers],
      kafkaClientId: 'sluice-test',
      kafkaSsl: true,
      kafkaSslFiles: { ca: sec.caFile, cert: '', key: '' },
      kafkaSasl: {
        mechanism: 'oauthbearer',
        username: '',
        password: '',
        tokenFile: tokenFile('valid', 3600),
      },
    });
    assert.equal(answer, null, 'Kafka answered');
  });
});

describe('settings that cannot work stop the programs at start, saying which', () => {
  const cluster = new TestCluster({ name: 'kafka-refused' });

  test('a wrong SASL password: the worker exits 1 with SLUICE_ERR_KAFKA_AUTH naming the password setting', async () => {
    const { code, out } = await cluster.runUntil('worker', {
      ...LISTENERS['sasl-scram-sha-512'],
      SLUICE_KAFKA_SASL_PASSWORD: 'not-the-password',
    });
    assert.equal(code, 1, out);
    assert.match(out, /SLUICE_ERR_KAFKA_AUTH/);
    assert.match(out, /refused SASL SCRAM-SHA-512 authentication as user \\?"sluice\\?"/);
    assert.match(out, /SLUICE_KAFKA_SASL_PASSWORD/);
    assert.ok(!out.includes('not-the-password'), 'the password is not in the output');
  });

  test('a broker certificate no configured CA vouches for: the master exits 1 with SLUICE_ERR_KAFKA_TLS naming the CA setting', async () => {
    // Node's built-in CAs only: the stack's own CA signed the broker's certificate.
    const { code, out } = await cluster.runUntil('master', {
      ...LISTENERS.tls,
      SLUICE_KAFKA_SSL_CA_FILE: '',
    });
    assert.equal(code, 1, out);
    assert.match(out, /SLUICE_ERR_KAFKA_TLS/);
    assert.match(out, /presented a certificate that is not trusted/);
    assert.match(out, /set SLUICE_KAFKA_SSL_CA_FILE to the PEM file of the CA/);
  });

  test('the mutual-TLS listener without a client certificate: the worker exits 1 naming the certificate settings', async () => {
    const { SLUICE_KAFKA_SSL_CERT_FILE: _cert, SLUICE_KAFKA_SSL_KEY_FILE: _key, ...noCert } = LISTENERS.mtls;
    const { code, out } = await cluster.runUntil('worker', noCert);
    assert.equal(code, 1, out);
    assert.match(out, /SLUICE_ERR_KAFKA_AUTH/);
    assert.match(out, /SLUICE_KAFKA_SSL_CERT_FILE and SLUICE_KAFKA_SSL_KEY_FILE/);
  });

  test('an expired OAUTHBEARER token: the worker exits 1 with SLUICE_ERR_KAFKA_AUTH naming the token file', async () => {
    const expired = tokenFile('expired', -3600);
    const { code, out } = await cluster.runUntil('worker', {
      SLUICE_KAFKA_BROKERS: sec.kafkaSaslBrokers,
      SLUICE_KAFKA_SSL: 'true',
      SLUICE_KAFKA_SSL_CA_FILE: sec.caFile,
      SLUICE_KAFKA_SASL_MECHANISM: 'oauthbearer',
      SLUICE_KAFKA_SASL_OAUTHBEARER_TOKEN_FILE: expired,
    });
    assert.equal(code, 1, out);
    assert.match(out, /SLUICE_ERR_KAFKA_AUTH/);
    assert.match(
      out,
      new RegExp(
        `refused the SASL OAUTHBEARER token of SLUICE_KAFKA_SASL_OAUTHBEARER_TOKEN_FILE \\(${expired}\\)`,
      ),
    );
  });

  test('plaintext settings against a TLS listener: SLUICE_ERR_KAFKA_TLS asking for SLUICE_KAFKA_SSL=true', async () => {
    const { code, out } = await cluster.runUntil('worker', { SLUICE_KAFKA_BROKERS: sec.kafkaTlsBrokers });
    assert.equal(code, 1, out);
    assert.match(out, /SLUICE_ERR_KAFKA_TLS/);
    assert.match(out, /set SLUICE_KAFKA_SSL=true/);
  });
});

describe('Redis over TLS', () => {
  test('rediss:// with the stack CA answers PING; without the CA the certificate is refused', async () => {
    const trusted = createRedis({ redisUrl: sec.redisTlsUrl, redisTlsCaFile: sec.caFile });
    try {
      assert.equal(await trusted.ping(), 'PONG');
    } finally {
      trusted.disconnect();
    }
    const untrusted = createRedis({ redisUrl: sec.redisTlsUrl });
    try {
      const refused = await new Promise<Error & { code?: string }>((resolve) =>
        untrusted.once('error', resolve),
      );
      assert.match(
        String(refused.code),
        /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN/,
        refused.message,
      );
    } finally {
      untrusted.disconnect();
    }
  });
});
