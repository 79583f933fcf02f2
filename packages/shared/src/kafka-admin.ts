/**
 * The master's (and tools') view of Kafka: topic ids, partitions and offsets, and the
 * connection settings, wire calls and error mapping that every Kafka client of Sluice shares
 * (the worker's range reader builds its fetches on {@link kafkaCall} and {@link kafkaMetadata}).
 *
 * Built on @platformatic/kafka's base client and its protocol APIs, not on its Admin helpers:
 *  - kafkajs speaks Metadata v6 at most and cannot see topic ids (they arrive with v10);
 *  - the library's `metadata()` turns one unknown topic into an error for the whole request,
 *    while Sluice needs "this topic is missing, that one is fine" from one answer;
 *  - its retry loop and error texts know nothing of Sluice's settings. Here a protocol error
 *    code is data ({@link kafkaCall} resolves with the response), retries are ours, and what
 *    reaches the caller is a {@link SluiceError} whose message names the brokers and the fix.
 *
 * Offsets are three ListOffsets answers per partition leader: earliest (timestamp -2), the
 * high watermark (-1, read_uncommitted) and the last stable offset (-1, read_committed). They
 * are asked in that order because each only grows, so `earliest <= lastStable <= latest`
 * holds in the result even while producers write (except after a DeleteRecords past an open
 * transaction, where Kafka itself has the log start above the last stable offset).
 */
import {
  type API,
  Base,
  type BaseOptions,
  type Broker,
  type Connection,
  FetchIsolationLevels,
  findErrorBy,
  kGetApi,
  kGetBootstrapConnection,
  ListOffsetTimestamps,
  type listOffsetsV9,
  type metadataV12,
  protocolErrorsCodesById,
} from '@platformatic/kafka';
import type { CommonConfig } from './config.ts';
import { ErrorCodes, SluiceError } from './errors.ts';

export interface TopicMetadata {
  topic: string;
  /** Kafka's topic id (UUID); changes when a topic is deleted and re-created. */
  topicId: string;
  /** Partition numbers, ascending. */
  partitions: number[];
}

export interface PartitionOffsets {
  partition: number;
  /** Log start offset (first offset not deleted by retention). */
  earliest: bigint;
  /** High watermark. */
  latest: bigint;
  /** Last stable offset (read_committed end): Sluice plans only below it. */
  lastStable: bigint;
}

export interface KafkaAdmin {
  /** Metadata of each topic; a topic Kafka does not have maps to null. */
  topicMetadata(topics: string[]): Promise<Map<string, TopicMetadata | null>>;
  /** Offsets of the given partitions of one topic. */
  offsets(topic: string, partitions: number[]): Promise<PartitionOffsets[]>;
  close(): Promise<void>;
}

/** The settings every Kafka client of Sluice is made from. */
export type KafkaSettings = Pick<CommonConfig, 'kafkaBrokers' | 'kafkaClientId' | 'kafkaSsl' | 'kafkaSasl'>;

/** Kafka protocol error codes Sluice acts on (the full list: `protocolErrorsCodesById`). */
export const KafkaErrorCodes = {
  NONE: 0,
  OFFSET_OUT_OF_RANGE: 1,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  LEADER_NOT_AVAILABLE: 5,
  NOT_LEADER_OR_FOLLOWER: 6,
  REQUEST_TIMED_OUT: 7,
  REPLICA_NOT_AVAILABLE: 9,
  NETWORK_EXCEPTION: 13,
  TOPIC_AUTHORIZATION_FAILED: 29,
  KAFKA_STORAGE_ERROR: 56,
  FENCED_LEADER_EPOCH: 74,
  UNKNOWN_LEADER_EPOCH: 75,
  OFFSET_NOT_AVAILABLE: 78,
  UNKNOWN_TOPIC_ID: 100,
  INCONSISTENT_TOPIC_ID: 103,
} as const;

/**
 * Codes after which the same request can succeed once metadata is fresh: leadership moved or
 * is moving, a broker restarted, a replica is catching up.
 */
export const KAFKA_LEADERSHIP_CODES: ReadonlySet<number> = new Set([
  KafkaErrorCodes.LEADER_NOT_AVAILABLE,
  KafkaErrorCodes.NOT_LEADER_OR_FOLLOWER,
  KafkaErrorCodes.REQUEST_TIMED_OUT,
  KafkaErrorCodes.REPLICA_NOT_AVAILABLE,
  KafkaErrorCodes.NETWORK_EXCEPTION,
  KafkaErrorCodes.KAFKA_STORAGE_ERROR,
  KafkaErrorCodes.FENCED_LEADER_EPOCH,
  KafkaErrorCodes.UNKNOWN_LEADER_EPOCH,
  KafkaErrorCodes.OFFSET_NOT_AVAILABLE,
]);

/** `6` → `NOT_LEADER_OR_FOLLOWER`. */
export function kafkaErrorName(code: number): string {
  return protocolErrorsCodesById[code] ?? `error code ${code}`;
}

const NIL_UUID = '00000000-0000-0000-0000-000000000000';

const SASL_MECHANISMS = {
  plain: 'PLAIN',
  'scram-sha-256': 'SCRAM-SHA-256',
  'scram-sha-512': 'SCRAM-SHA-512',
} as const;

/**
 * Options for a @platformatic/kafka client from Sluice's settings. The library's own retries
 * are off: every caller retries with its own backoff and knows which errors are worth it.
 */
export function kafkaClientOptions(cfg: KafkaSettings): BaseOptions {
  return {
    clientId: cfg.kafkaClientId,
    bootstrapBrokers: [...cfg.kafkaBrokers],
    connectTimeout: 10_000,
    requestTimeout: 30_000,
    retries: 0,
    ...(cfg.kafkaSsl ? { tls: {}, tlsServerName: true } : {}),
    ...(cfg.kafkaSasl
      ? {
          sasl: {
            mechanism: SASL_MECHANISMS[cfg.kafkaSasl.mechanism],
            username: cfg.kafkaSasl.username,
            password: cfg.kafkaSasl.password,
          },
        }
      : {}),
  };
}

/** A bare client: a connection pool that negotiates API versions and authenticates. */
export function createKafkaClient(cfg: KafkaSettings): Base {
  return new Base(kafkaClientOptions(cfg));
}

function findBy(err: unknown, property: string, value: unknown): boolean {
  return err instanceof Error && findErrorBy(err, property, value) !== null;
}

function fixFor(err: unknown): string {
  if (findBy(err, 'code', 'PLT_KFK_AUTHENTICATION') || /sasl|authentic/i.test(String(err))) {
    return 'check SLUICE_KAFKA_SASL_MECHANISM, SLUICE_KAFKA_SASL_USERNAME and SLUICE_KAFKA_SASL_PASSWORD';
  }
  if (/tls|ssl|certificate/i.test(String(err))) {
    return 'check SLUICE_KAFKA_SSL (true only when the listener speaks TLS) and the CA trusted by Node (NODE_EXTRA_CA_CERTS)';
  }
  return 'check SLUICE_KAFKA_BROKERS (and SLUICE_KAFKA_SSL / SLUICE_KAFKA_SASL_* if the listener needs them) and that Kafka is running';
}

function causeText(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) {
    return `${err.message} (${err.errors.map((e) => causeText(e)).join('; ')})`;
  }
  return err instanceof Error ? err.message : String(err);
}

/**
 * The one way a failed Kafka call leaves this layer: a retryable SluiceError naming the
 * brokers, what was being done, what Kafka said and what to check.
 */
export function kafkaError(
  err: unknown,
  cfg: Pick<KafkaSettings, 'kafkaBrokers'>,
  action: string,
): SluiceError {
  if (err instanceof SluiceError) return err;
  return new SluiceError(
    ErrorCodes.KAFKA,
    `Kafka at ${cfg.kafkaBrokers.join(',')} failed to ${action}: ${causeText(err)}; ${fixFor(err)}`,
    { retryable: true, cause: err },
  );
}

type AnyApi = API<unknown[], unknown>;

function getApi(client: Base, name: string): Promise<AnyApi> {
  return new Promise((resolve, reject) => {
    client[kGetApi](name, (err, api) => (err ? reject(err) : resolve(api as unknown as AnyApi)));
  });
}

/**
 * Sends one request of API `apiName` (at the highest version both sides speak) to `broker`,
 * or to any bootstrap broker when null. Resolves with the response even when it carries
 * protocol error codes: those are the caller's to read. Rejects only when there is no
 * response (connection, timeout, authentication, unsupported version).
 */
export async function kafkaCall<R>(
  client: Base,
  broker: Broker | null,
  apiName: string,
  args: (api: { version: number }) => unknown[],
): Promise<{ response: R; version: number }> {
  const connection = broker ? await client.connections.get(broker) : await bootstrapConnection(client);
  const api = await getApi(client, apiName);
  return new Promise((resolve, reject) => {
    api(connection, ...args(api), (err: Error | null, response?: unknown) => {
      const withResponse = (err as { response?: unknown } | null)?.response;
      if (err && withResponse === undefined) reject(err);
      else resolve({ response: (response ?? withResponse) as R, version: api.version });
    });
  });
}

/** A connection to the first bootstrap broker that answers. */
function bootstrapConnection(client: Base): Promise<Connection> {
  return new Promise((resolve, reject) => {
    client[kGetBootstrapConnection]((err, connection) =>
      err ? reject(err) : resolve(connection as Connection),
    );
  });
}

export interface PartitionLeader {
  partition: number;
  /** Partition-level error code of the metadata answer (0 when fine). */
  errorCode: number;
  /** Node id of the leader, -1 when there is none right now. */
  leaderId: number;
  leaderEpoch: number;
}

export interface TopicView {
  /** Topic-level error code (0 when fine, 3 when Kafka does not have the topic). */
  errorCode: number;
  topicId: string;
  /** Indexed by partition number. */
  partitions: PartitionLeader[];
}

export interface ClusterView {
  brokers: Map<number, Broker>;
  topics: Map<string, TopicView>;
}

/**
 * One Metadata request for `topics` (never auto-creating them), with per-topic and
 * per-partition error codes kept. Throws only when no broker answered.
 */
export async function kafkaMetadata(client: Base, topics: string[]): Promise<ClusterView> {
  const { response, version } = await kafkaCall<metadataV12.MetadataResponse>(
    client,
    null,
    'Metadata',
    () => [topics, false, false],
  );
  const brokers = new Map<number, Broker>();
  for (const b of response.brokers) brokers.set(b.nodeId, { host: b.host, port: b.port });
  const view: ClusterView = { brokers, topics: new Map() };
  for (const t of response.topics) {
    if (!t.name) continue;
    const partitions: PartitionLeader[] = [];
    for (const p of [...t.partitions].sort((a, b) => a.partitionIndex - b.partitionIndex)) {
      partitions[p.partitionIndex] = {
        partition: p.partitionIndex,
        errorCode: p.errorCode,
        leaderId: p.leaderId,
        leaderEpoch: p.leaderEpoch,
      };
    }
    const topicId = version >= 10 && t.topicId ? t.topicId : NIL_UUID;
    view.topics.set(t.name, { errorCode: t.errorCode, topicId, partitions });
  }
  if (version < 10) {
    throw new SluiceError(
      ErrorCodes.KAFKA,
      `Kafka answers Metadata v${version}, which carries no topic ids; Sluice needs Kafka 2.8 or newer`,
      { retryable: false },
    );
  }
  return view;
}

export interface ListedOffset {
  partition: number;
  errorCode: number;
  offset: bigint;
}

/**
 * ListOffsets for some partitions of one topic at one timestamp (-2 earliest, -1 latest),
 * one request per leader, in parallel. Partitions whose leader is unknown come back with
 * LEADER_NOT_AVAILABLE. Per-partition error codes are returned, not thrown.
 */
export async function kafkaListOffsets(
  client: Base,
  view: ClusterView,
  topic: string,
  partitions: number[],
  timestamp: bigint,
  isolationLevel: number,
): Promise<ListedOffset[]> {
  const t = view.topics.get(topic);
  const byLeader = new Map<number, listOffsetsV9.ListOffsetsRequestPartition[]>();
  const out: ListedOffset[] = [];
  for (const partition of partitions) {
    const p = t?.partitions[partition];
    if (!t || t.errorCode === KafkaErrorCodes.UNKNOWN_TOPIC_OR_PARTITION || !p) {
      out.push({ partition, errorCode: KafkaErrorCodes.UNKNOWN_TOPIC_OR_PARTITION, offset: -1n });
      continue;
    }
    if (p.leaderId < 0 || !view.brokers.has(p.leaderId)) {
      out.push({ partition, errorCode: KafkaErrorCodes.LEADER_NOT_AVAILABLE, offset: -1n });
      continue;
    }
    const list = byLeader.get(p.leaderId) ?? [];
    list.push({ partitionIndex: partition, currentLeaderEpoch: p.leaderEpoch, timestamp });
    byLeader.set(p.leaderId, list);
  }
  const answers = await Promise.all(
    [...byLeader].map(([leader, parts]) =>
      kafkaCall<listOffsetsV9.ListOffsetsResponse>(
        client,
        view.brokers.get(leader) as Broker,
        'ListOffsets',
        () => [-1, isolationLevel, [{ name: topic, partitions: parts }]],
      ),
    ),
  );
  for (const { response } of answers) {
    for (const rt of response.topics) {
      for (const rp of rt.partitions) {
        out.push({ partition: rp.partitionIndex, errorCode: rp.errorCode, offset: rp.offset });
      }
    }
  }
  return out;
}

/** Backoff for attempt n (0-based): 100 ms doubling to 3.2 s, with jitter. */
export function kafkaBackoffMs(attempt: number): number {
  const base = Math.min(100 * 2 ** attempt, 3_200);
  return Math.round(base / 2 + Math.random() * (base / 2));
}

/** False for what no retry fixes: bad credentials, a closed client, an API Kafka lacks. */
export function healsByWaiting(err: unknown): boolean {
  return !(
    findBy(err, 'code', 'PLT_KFK_AUTHENTICATION') ||
    findBy(err, 'code', 'PLT_KFK_UNSUPPORTED_API') ||
    findBy(err, 'closed', true)
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A transient condition worth another try after fresh metadata; carries the Kafka code. */
class Transient extends Error {
  readonly kafkaCode: number;
  constructor(message: string, kafkaCode: number) {
    super(message);
    this.kafkaCode = kafkaCode;
  }
}

class PlatformaticKafkaAdmin implements KafkaAdmin {
  readonly #cfg: KafkaSettings;
  readonly #client: Base;
  readonly #attempts: number;

  constructor(cfg: KafkaSettings, attempts: number) {
    this.#cfg = cfg;
    this.#client = createKafkaClient(cfg);
    this.#attempts = attempts;
  }

  async #retrying<T>(action: string, fn: () => Promise<T>): Promise<T> {
    let last: unknown;
    for (let attempt = 0; attempt < this.#attempts; attempt++) {
      if (attempt > 0) await sleep(kafkaBackoffMs(attempt - 1));
      try {
        return await fn();
      } catch (err) {
        if (err instanceof SluiceError) throw err;
        last = err;
        if (!healsByWaiting(err)) break;
      }
    }
    throw kafkaError(last, this.#cfg, action);
  }

  topicMetadata(topics: string[]): Promise<Map<string, TopicMetadata | null>> {
    const wanted = [...new Set(topics)];
    return this.#retrying(`describe topics ${wanted.join(',')}`, async () => {
      const result = new Map<string, TopicMetadata | null>();
      if (wanted.length === 0) return result;
      const view = await kafkaMetadata(this.#client, wanted);
      for (const name of wanted) {
        const t = view.topics.get(name);
        if (!t || t.errorCode === KafkaErrorCodes.UNKNOWN_TOPIC_OR_PARTITION) {
          result.set(name, null);
        } else if (t.errorCode === KafkaErrorCodes.TOPIC_AUTHORIZATION_FAILED) {
          throw new SluiceError(
            ErrorCodes.KAFKA,
            `Kafka at ${this.#cfg.kafkaBrokers.join(',')} refused to describe topic "${name}" (TOPIC_AUTHORIZATION_FAILED); grant the Sluice principal DESCRIBE and READ on it`,
            { retryable: true },
          );
        } else if (t.errorCode !== KafkaErrorCodes.NONE) {
          throw new Transient(`topic "${name}": ${kafkaErrorName(t.errorCode)}`, t.errorCode);
        } else {
          const partitions = t.partitions.filter(Boolean).map((p) => p.partition);
          result.set(name, { topic: name, topicId: t.topicId, partitions });
        }
      }
      return result;
    });
  }

  offsets(topic: string, partitions: number[]): Promise<PartitionOffsets[]> {
    return this.#retrying(`list offsets of topic ${topic}`, async () => {
      const view = await kafkaMetadata(this.#client, [topic]);
      const t = view.topics.get(topic);
      if (!t || t.errorCode === KafkaErrorCodes.UNKNOWN_TOPIC_OR_PARTITION) {
        throw new SluiceError(
          ErrorCodes.TOPIC_NOT_IN_KAFKA,
          `topic "${topic}" does not exist in Kafka at ${this.#cfg.kafkaBrokers.join(',')}; create it or unregister it from Sluice`,
          { retryable: false },
        );
      }
      const missing = partitions.filter((p) => !t.partitions[p]);
      if (missing.length > 0) {
        throw new SluiceError(
          ErrorCodes.VALIDATION,
          `topic "${topic}" has no partition ${missing.join(',')} (it has ${t.partitions.filter(Boolean).length})`,
          { retryable: false },
        );
      }
      // In this order: each value only grows, so earliest <= lastStable <= latest.
      const earliest = await this.#column(view, topic, partitions, ListOffsetTimestamps.EARLIEST, 0);
      const lastStable = await this.#column(
        view,
        topic,
        partitions,
        ListOffsetTimestamps.LATEST,
        FetchIsolationLevels.READ_COMMITTED,
      );
      const latest = await this.#column(
        view,
        topic,
        partitions,
        ListOffsetTimestamps.LATEST,
        FetchIsolationLevels.READ_UNCOMMITTED,
      );
      return partitions.map((partition) => ({
        partition,
        earliest: earliest.get(partition) as bigint,
        latest: latest.get(partition) as bigint,
        lastStable: lastStable.get(partition) as bigint,
      }));
    });
  }

  async #column(
    view: ClusterView,
    topic: string,
    partitions: number[],
    timestamp: bigint,
    isolation: number,
  ): Promise<Map<number, bigint>> {
    const listed = await kafkaListOffsets(this.#client, view, topic, partitions, timestamp, isolation);
    const out = new Map<number, bigint>();
    for (const l of listed) {
      if (l.errorCode !== KafkaErrorCodes.NONE) {
        throw new Transient(
          `topic "${topic}" partition ${l.partition}: ${kafkaErrorName(l.errorCode)}`,
          l.errorCode,
        );
      }
      out.set(l.partition, l.offset);
    }
    return out;
  }

  async close(): Promise<void> {
    await this.#client.close();
  }
}

/**
 * The Kafka admin of the master and the tools. Each call makes up to `attempts` tries with
 * backoff (about 6 s in all by default) before it fails with a retryable SluiceError.
 */
export function createKafkaAdmin(cfg: KafkaSettings, options: { attempts?: number } = {}): KafkaAdmin {
  return new PlatformaticKafkaAdmin(cfg, options.attempts ?? 6);
}
