/**
 * Kafka layer, bottom: the client options every Kafka client of Sluice is made from, so that
 * the master, the worker and the tools connect (TLS, SASL, timeouts) the same way.
 *
 * Built on @platformatic/kafka's base client, not its Admin or Consumer helpers (admin.ts
 * says why); the library's own retries are off because every caller above retries with its
 * own backoff and knows which errors are worth it (errors.ts).
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { Base as BaseClient, BaseOptions } from '@platformatic/kafka';
import type { CommonConfig } from '../config.ts';
import { ErrorCodes, SluiceError } from '../errors.ts';
import { Base } from './library.ts';

/**
 * The settings every Kafka client of Sluice is made from. The PEM files are optional here so
 * that settings written by hand for a plaintext listener (tests, tools) need not name them.
 */
export type KafkaSettings = Pick<CommonConfig, 'kafkaBrokers' | 'kafkaClientId' | 'kafkaSsl' | 'kafkaSasl'> &
  Partial<Pick<CommonConfig, 'kafkaSslFiles'>>;

/** A bare client: a connection pool that negotiates API versions and authenticates. */
export type KafkaClient = BaseClient;

const SASL_MECHANISMS = {
  plain: 'PLAIN',
  'scram-sha-256': 'SCRAM-SHA-256',
  'scram-sha-512': 'SCRAM-SHA-512',
  oauthbearer: 'OAUTHBEARER',
} as const;

/**
 * A file's content (a PEM file, the OAUTHBEARER token). Read each time a client is made (not once at start), so a certificate
 * renewed in its mounted Secret is used by the next client; the settings check at start made
 * sure it was readable then.
 */
function pem(path: string, setting: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new SluiceError(
      ErrorCodes.CONFIG,
      `${setting} names ${path}, which cannot be read now (${(err as NodeJS.ErrnoException).code ?? err}); restore the file or change the setting`,
      { cause: err },
    );
  }
}

/**
 * The OAUTHBEARER token, read from its file for each new connection: tokens expire, and a
 * sidecar (or a projected service-account token) renews the file in place.
 */
function oauthbearerToken(path: string): string {
  const token = pem(path, 'SLUICE_KAFKA_SASL_OAUTHBEARER_TOKEN_FILE').toString('utf8').trim();
  if (token === '') {
    throw new SluiceError(
      ErrorCodes.CONFIG,
      `SLUICE_KAFKA_SASL_OAUTHBEARER_TOKEN_FILE names ${path}, which is empty now; whatever renews the token must write it there`,
    );
  }
  return token;
}

/** Node's TLS options for the brokers: the CAs to trust and the client certificate, when set. */
function tlsOptions(cfg: KafkaSettings): NonNullable<BaseOptions['tls']> {
  const files = cfg.kafkaSslFiles;
  return {
    ...(files?.ca ? { ca: pem(files.ca, 'SLUICE_KAFKA_SSL_CA_FILE') } : {}),
    ...(files?.cert ? { cert: pem(files.cert, 'SLUICE_KAFKA_SSL_CERT_FILE') } : {}),
    ...(files?.key ? { key: pem(files.key, 'SLUICE_KAFKA_SSL_KEY_FILE') } : {}),
  };
}

function saslOptions(sasl: NonNullable<KafkaSettings['kafkaSasl']>): NonNullable<BaseOptions['sasl']> {
  const tokenFile = sasl.tokenFile;
  if (sasl.mechanism === 'oauthbearer' && tokenFile) {
    return { mechanism: 'OAUTHBEARER', token: () => oauthbearerToken(tokenFile) };
  }
  return { mechanism: SASL_MECHANISMS[sasl.mechanism], username: sasl.username, password: sasl.password };
}

/** Options for a @platformatic/kafka client from Sluice's settings, with the library's retries off. */
export function kafkaClientOptions(cfg: KafkaSettings): BaseOptions {
  // SNI carries a host name; for brokers given by IP address Node checks the address against
  // the certificate without it (and warns when an IP is sent as the server name).
  const byName = cfg.kafkaBrokers.some((b) => isIP(b.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1')) === 0);
  return {
    clientId: cfg.kafkaClientId,
    bootstrapBrokers: [...cfg.kafkaBrokers],
    connectTimeout: 10_000,
    requestTimeout: 30_000,
    retries: 0,
    ...(cfg.kafkaSsl ? { tls: tlsOptions(cfg), tlsServerName: byName } : {}),
    ...(cfg.kafkaSasl ? { sasl: saslOptions(cfg.kafkaSasl) } : {}),
  };
}

/** A bare client: a connection pool that negotiates API versions and authenticates. */
export function createKafkaClient(cfg: KafkaSettings): KafkaClient {
  return new Base(kafkaClientOptions(cfg));
}
