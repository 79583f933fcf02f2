/**
 * Kafka layer, wire call: one request of one API to one broker, at the highest version both
 * sides speak. A protocol error code is data here (the call resolves with the response);
 * the call rejects only when there is no response, so that retries and error texts stay the
 * callers' (errors.ts), not the library's.
 */
import type { API, Broker, Connection } from '@platformatic/kafka';
import { kGetApi, kGetBootstrapConnection } from './library.ts';
import type { KafkaClient } from './options.ts';

/** The negotiated API `apiName` of `client` (the highest version both sides speak). */
export function negotiatedApi<A extends unknown[], R>(
  client: KafkaClient,
  apiName: string,
): Promise<API<A, R>> {
  return new Promise((resolve, reject) => {
    client[kGetApi]<A, R>(apiName, (err, api) => (err ? reject(err) : resolve(api as API<A, R>)));
  });
}

/** The connection to `broker`, or to the first bootstrap broker that answers when null. */
export function brokerConnection(client: KafkaClient, broker: Broker | null): Promise<Connection> {
  if (broker) return client.connections.get(broker);
  return new Promise((resolve, reject) => {
    client[kGetBootstrapConnection]((err, connection) =>
      err ? reject(err) : resolve(connection as Connection),
    );
  });
}

/**
 * Sends one request with `api` on `connection`. The library's parsers throw an error that
 * carries the answer when it holds error codes: that answer is resolved, not rejected.
 */
export function sendRequest<R>(api: API<unknown[], R>, connection: Connection, args: unknown[]): Promise<R> {
  return new Promise((resolve, reject) => {
    api(connection, ...args, (err: Error | null, response?: R) => {
      const withResponse = (err as { response?: R } | null)?.response;
      if (err && withResponse === undefined) reject(err);
      else resolve((response ?? withResponse) as R);
    });
  });
}

/**
 * Sends one request of API `apiName` (at the highest version both sides speak) to `broker`,
 * or to any bootstrap broker when null. Resolves with the response even when it carries
 * protocol error codes: those are the caller's to read. Rejects only when there is no
 * response (connection, timeout, authentication, unsupported version).
 */
export async function kafkaCall<R>(
  client: KafkaClient,
  broker: Broker | null,
  apiName: string,
  args: (api: { version: number }) => unknown[],
): Promise<{ response: R; version: number }> {
  const connection = await brokerConnection(client, broker);
  const api = await negotiatedApi<unknown[], R>(client, apiName);
  const response = await sendRequest(api, connection, args(api));
  return { response, version: api.version };
}
