/**
 * Kafka layer, the check at start: one Metadata request through the settings' TLS and SASL,
 * so that a wrong password, an untrusted certificate or a TLS mismatch stops the master or
 * the worker at once with a message saying which (issue 17), instead of every later call
 * failing and being retried forever as if Kafka were down. A Kafka that is only unreachable
 * does not stop the start: the programs wait for it as they do for any restart.
 */
import { ErrorCodes, SluiceError } from '../errors.ts';
import { kafkaError } from './errors.ts';
import { kafkaMetadata } from './metadata.ts';
import { createKafkaClient, type KafkaSettings } from './options.ts';

/** Node's codes for a server certificate that no trusted CA vouches for. */
const UNTRUSTED_CERTIFICATE = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);

/** Every error of a failure: the error, the ones it aggregates and its causes. */
function chain(err: unknown, out: Error[] = []): Error[] {
  if (!(err instanceof Error) || out.includes(err) || out.length > 20) return out;
  out.push(err);
  if (err instanceof AggregateError) for (const e of err.errors) chain(e, out);
  chain(err.cause, out);
  return out;
}

const codeOf = (e: Error): string => {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' ? code : '';
};

/**
 * The SluiceError a failed first request becomes when the settings (not the network) are
 * at fault, or null when Kafka may just be unreachable. Exported for its unit test.
 */
export function kafkaAccessProblem(err: unknown, cfg: KafkaSettings): SluiceError | null {
  const errors = chain(err);
  const at = `Kafka at ${cfg.kafkaBrokers.join(',')}`;
  const fail = (code: typeof ErrorCodes.KAFKA_AUTH | typeof ErrorCodes.KAFKA_TLS, message: string) =>
    new SluiceError(code, `${at} ${message}`, { retryable: false, cause: err });

  const sasl = cfg.kafkaSasl;
  if (errors.some((e) => /cannot find a suitable SASL mechanism/i.test(e.message))) {
    return fail(
      ErrorCodes.KAFKA_AUTH,
      `does not offer SASL ${sasl?.mechanism.toUpperCase() ?? ''} on this listener: point SLUICE_KAFKA_BROKERS at the listener with SASL (SASL_SSL or SASL_PLAINTEXT), or set SLUICE_KAFKA_SASL_MECHANISM to one it offers (none for a listener without SASL)`,
    );
  }
  // A refused OAUTHBEARER token leaves the connection in the middle of its SASL exchange, and
  // the next request is answered ILLEGAL_SASL_STATE (34) instead of an authentication error.
  const saslState = errors.some((e) => (e as { apiCode?: unknown }).apiCode === 34);
  if (
    sasl?.mechanism === 'oauthbearer' &&
    (saslState || errors.some((e) => codeOf(e) === 'PLT_KFK_AUTHENTICATION'))
  ) {
    return fail(
      ErrorCodes.KAFKA_AUTH,
      `refused the SASL OAUTHBEARER token of SLUICE_KAFKA_SASL_OAUTHBEARER_TOKEN_FILE (${sasl.tokenFile}): it has expired, is not valid yet, or the broker's validator does not accept its issuer, audience or signature; renew the token in that file (it is read again for each new connection)`,
    );
  }
  if (errors.some((e) => codeOf(e) === 'PLT_KFK_AUTHENTICATION')) {
    const said = errors.map((e) => (e as { serverErrorMessage?: unknown }).serverErrorMessage).find(Boolean);
    return fail(
      ErrorCodes.KAFKA_AUTH,
      `refused SASL ${sasl?.mechanism.toUpperCase() ?? ''} authentication as user "${sasl?.username ?? ''}"${said ? ` (${said})` : ''}: wrong SLUICE_KAFKA_SASL_USERNAME or SLUICE_KAFKA_SASL_PASSWORD (or SLUICE_KAFKA_SASL_PASSWORD_FILE), or the broker has no ${sasl?.mechanism.toUpperCase() ?? ''} credentials for that user (for SCRAM: kafka-configs.sh --alter --entity-type users --entity-name ${sasl?.username ?? '<user>'} --add-config '${sasl?.mechanism.toUpperCase() ?? 'SCRAM-SHA-512'}=[password=...]')`,
    );
  }
  const tls = errors.find((e) => UNTRUSTED_CERTIFICATE.has(codeOf(e)));
  if (tls) {
    const ca = cfg.kafkaSslFiles?.ca;
    return fail(
      ErrorCodes.KAFKA_TLS,
      `presented a certificate that is not trusted (${codeOf(tls)}: ${tls.message}): ${
        ca
          ? `SLUICE_KAFKA_SSL_CA_FILE (${ca}) does not hold the CA that signed the brokers' certificates; set it to that CA's PEM file`
          : "set SLUICE_KAFKA_SSL_CA_FILE to the PEM file of the CA that signed the brokers' certificates (Node trusts only its built-in CAs)"
      }`,
    );
  }
  const altName = errors.find((e) => codeOf(e) === 'ERR_TLS_CERT_ALTNAME_INVALID');
  if (altName) {
    return fail(
      ErrorCodes.KAFKA_TLS,
      `presented a certificate for other names (${altName.message}): list the brokers in SLUICE_KAFKA_BROKERS (and in the brokers' advertised.listeners) by a name their certificate carries`,
    );
  }
  const expired = errors.find((e) => codeOf(e) === 'CERT_HAS_EXPIRED' || codeOf(e) === 'CERT_NOT_YET_VALID');
  if (expired) {
    return fail(
      ErrorCodes.KAFKA_TLS,
      `presented a certificate outside its validity (${codeOf(expired)}): renew the brokers' certificates`,
    );
  }
  if (errors.some((e) => /broker requires TLS/i.test(e.message))) {
    return fail(
      ErrorCodes.KAFKA_TLS,
      'speaks TLS on this port and SLUICE_KAFKA_SSL is false: set SLUICE_KAFKA_SSL=true',
    );
  }
  if (errors.some((e) => /TLS handshake failed/i.test(e.message))) {
    return fail(
      ErrorCodes.KAFKA_TLS,
      'does not speak TLS on this port and SLUICE_KAFKA_SSL is true: point SLUICE_KAFKA_BROKERS at the TLS listener, or set SLUICE_KAFKA_SSL=false',
    );
  }
  const alert = errors.find((e) => /^ERR_SSL_.*ALERT/.test(codeOf(e)));
  if (alert) {
    return fail(
      ErrorCodes.KAFKA_TLS,
      `ended the TLS handshake with an alert (${codeOf(alert)}): it asks for a client certificate signed by a CA it trusts; set SLUICE_KAFKA_SSL_CERT_FILE and SLUICE_KAFKA_SSL_KEY_FILE`,
    );
  }
  return null;
}

/** Whether a failure is a connection closed by the broker before it answered anything. */
const closedBeforeAnswer = (err: unknown): boolean =>
  chain(err).some((e) => /^Connection closed$/i.test(e.message));

/**
 * Asks Kafka for its brokers with the settings' TLS and SASL. Throws a SluiceError coded
 * SLUICE_ERR_KAFKA_AUTH or SLUICE_ERR_KAFKA_TLS when the settings are at fault; returns the
 * failure's text when Kafka is only unreachable (the caller logs it and starts anyway), or
 * null when Kafka answered.
 *
 * A broker that closes the connection right after the handshake is refusing a client without
 * SASL or without a client certificate (Kafka says no more than that); the check asks three
 * times, so a broker that just restarts is not taken for one that refuses.
 */
export async function checkKafkaAccess(cfg: KafkaSettings, pauseMs = 1_000): Promise<string | null> {
  let last: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const client = createKafkaClient(cfg);
    try {
      await kafkaMetadata(client, []);
      return null;
    } catch (err) {
      const problem = kafkaAccessProblem(err, cfg);
      if (problem) throw problem;
      last = err;
      if (!closedBeforeAnswer(err)) return kafkaError(err, cfg, 'answer at start').message;
    } finally {
      await client.close().catch(() => undefined);
    }
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
  const asks = [
    cfg.kafkaSasl
      ? null
      : 'SASL (set SLUICE_KAFKA_SASL_MECHANISM, SLUICE_KAFKA_SASL_USERNAME and SLUICE_KAFKA_SASL_PASSWORD)',
    cfg.kafkaSslFiles?.cert
      ? null
      : 'a client certificate (set SLUICE_KAFKA_SSL_CERT_FILE and SLUICE_KAFKA_SSL_KEY_FILE)',
  ].filter(Boolean);
  throw new SluiceError(
    ErrorCodes.KAFKA_AUTH,
    `Kafka at ${cfg.kafkaBrokers.join(',')} closed every connection before answering: the listener refuses this client; it likely asks for ${asks.length > 0 ? asks.join(' or ') : 'another SASL mechanism or a client certificate it trusts'} (see the broker's log for the reason)`,
    { retryable: false, cause: last },
  );
}
