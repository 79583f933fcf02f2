/**
 * The check at start tells settings at fault (SLUICE_ERR_KAFKA_AUTH, SLUICE_ERR_KAFKA_TLS)
 * from a Kafka that is only unreachable (null: the program starts and waits), from the errors
 * @platformatic/kafka gives; test/integration/kafka-security.test.ts meets the real ones.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AuthenticationError, MultipleErrors, NetworkError, UserError } from '@platformatic/kafka';
import { kafkaAccessProblem } from '../../src/kafka/access-check.ts';
import type { KafkaSettings } from '../../src/kafka/options.ts';

const cfg: KafkaSettings = {
  kafkaBrokers: ['kafka-0:9093'],
  kafkaClientId: 'sluice',
  kafkaSsl: true,
  kafkaSslFiles: { ca: '', cert: '', key: '' },
  kafkaSasl: { mechanism: 'scram-sha-512', username: 'sluice', password: 'secret-password' },
};

/** As the library reports a failed first connection: all brokers failed, each for a cause. */
const noBroker = (cause: Error) =>
  new MultipleErrors('Cannot connect to any broker.', [
    new NetworkError('Connection to kafka-0:9093 failed.', { cause }),
  ]);

const nodeError = (code: string, message: string) => Object.assign(new Error(message), { code });

test('SASL refused: SLUICE_ERR_KAFKA_AUTH naming the mechanism, the user and the settings, never the password', () => {
  const problem = kafkaAccessProblem(noBroker(new AuthenticationError('SASL authentication failed.')), cfg);
  assert.equal(problem?.code, 'SLUICE_ERR_KAFKA_AUTH');
  assert.match(
    String(problem?.message),
    /^Kafka at kafka-0:9093 refused SASL SCRAM-SHA-512 authentication as user "sluice"/,
  );
  assert.match(String(problem?.message), /SLUICE_KAFKA_SASL_USERNAME or SLUICE_KAFKA_SASL_PASSWORD/);
  assert.ok(!String(problem?.message).includes('secret-password'));
});

test('a listener without the SASL mechanism: SLUICE_ERR_KAFKA_AUTH saying so, not blaming the password', () => {
  const problem = kafkaAccessProblem(
    noBroker(new AuthenticationError('Cannot find a suitable SASL mechanism.')),
    cfg,
  );
  assert.equal(problem?.code, 'SLUICE_ERR_KAFKA_AUTH');
  assert.match(String(problem?.message), /does not offer SASL SCRAM-SHA-512 on this listener/);
  assert.doesNotMatch(String(problem?.message), /SLUICE_KAFKA_SASL_PASSWORD/);
});

test('an untrusted certificate: SLUICE_ERR_KAFKA_TLS asking for the CA file, or saying the one set is not it', () => {
  const untrusted = noBroker(
    nodeError('SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain'),
  );
  const withoutCa = kafkaAccessProblem(untrusted, cfg);
  assert.equal(withoutCa?.code, 'SLUICE_ERR_KAFKA_TLS');
  assert.match(
    String(withoutCa?.message),
    /not trusted \(SELF_SIGNED_CERT_IN_CHAIN.*set SLUICE_KAFKA_SSL_CA_FILE to the PEM file/,
  );
  const withCa = kafkaAccessProblem(untrusted, {
    ...cfg,
    kafkaSslFiles: { ca: '/etc/kafka/ca.crt', cert: '', key: '' },
  });
  assert.match(
    String(withCa?.message),
    /SLUICE_KAFKA_SSL_CA_FILE \(\/etc\/kafka\/ca\.crt\) does not hold the CA/,
  );
});

test('a certificate for other names, and TLS on one side only, are SLUICE_ERR_KAFKA_TLS saying what to change', () => {
  const altName = kafkaAccessProblem(
    noBroker(nodeError('ERR_TLS_CERT_ALTNAME_INVALID', "Host: kafka-0 is not in the cert's altnames")),
    cfg,
  );
  assert.match(String(altName?.message), /certificate for other names.*SLUICE_KAFKA_BROKERS/);
  const plainToTls = kafkaAccessProblem(new UserError('Broker requires TLS.'), { ...cfg, kafkaSsl: false });
  assert.match(String(plainToTls?.message), /speaks TLS on this port.*set SLUICE_KAFKA_SSL=true/);
  const tlsToPlain = kafkaAccessProblem(
    noBroker(new UserError('TLS handshake failed. Please verify the broker supports TLS.')),
    cfg,
  );
  assert.match(String(tlsToPlain?.message), /does not speak TLS on this port/);
  for (const p of [altName, plainToTls, tlsToPlain]) assert.equal(p?.code, 'SLUICE_ERR_KAFKA_TLS');
});

test('a Kafka that is down or unreachable is no settings problem: null', () => {
  assert.equal(
    kafkaAccessProblem(noBroker(nodeError('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.1:9093')), cfg),
    null,
  );
  assert.equal(kafkaAccessProblem(noBroker(nodeError('ETIMEDOUT', 'connect ETIMEDOUT')), cfg), null);
});
