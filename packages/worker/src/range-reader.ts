/**
 * The Kafka side of a worker: reads exactly `[start, end)` of one partition.
 *
 * How (DESIGN.md, "Edges that a real Kafka has"):
 *  - Group-free: plain Fetch requests to the partition's current leader, found through
 *    Metadata; no consumer group is joined, no offset is committed. Fetch sessions are not
 *    used either (session id 0, epoch -1: a full fetch each time), since one read has one
 *    partition and the next fetch offset is always ours.
 *  - read_committed, with aborted transactions dropped here (kafka-committed-records.ts),
 *    not by @platformatic/kafka's `Consumer.fetch`, whose filter lets aborted records through
 *    when the ABORT marker is not in the same answer (bench/KAFKA-CLIENT.md).
 *  - The range is done when the fetch position reaches `end`; records are never counted,
 *    because offsets can be missing (compaction, transaction markers, aborted records).
 *  - A start below the log start offset (retention) is reported as a gap and skipped.
 *  - The topic id is checked against the range's before the first fetch and sent with every
 *    fetch (Fetch v13+), so a topic deleted and re-created under the same name is noticed
 *    (TOPIC_RECREATED) instead of being read as if it were the old one.
 *  - Leadership moves, broker restarts and connection losses refresh metadata and retry with
 *    backoff; after `attempts` failures in a row the read fails with a retryable error, and a
 *    position that makes no progress for `stallTimeoutMs` fails too: it never hangs.
 *  - Memory: one fetch in flight per read, of at most `fetchMaxBytes` (Kafka exceeds it only
 *    to send a single batch that is larger). The next fetch leaves as soon as an answer is in,
 *    so a read holds at most two answers: the one the caller is working on and the one
 *    arriving. Keys, values and headers are views into the fetched (or decompressed) buffer.
 */
import {
  type API,
  createAPI,
  fetchV12,
  fetchV13,
  fetchV14,
  fetchV15,
  fetchV16,
  fetchV17,
  kGetApi,
  type Reader,
} from '@platformatic/kafka';
import {
  createKafkaClient,
  ErrorCodes,
  errorText,
  healsByWaiting,
  KAFKA_LEADERSHIP_CODES,
  KafkaErrorCodes,
  kafkaBackoffMs,
  kafkaError,
  kafkaErrorName,
  kafkaListOffsets,
  kafkaMetadata,
  type Logger,
  rangeLabel,
  SluiceError,
  type WorkerConfig,
} from '@sluice/shared';
import {
  committedRecords,
  type FetchedRecord,
  type LazyBatch,
  type WireBatch,
} from './kafka-committed-records.ts';
import { parseFetchAnswer } from './kafka-fetch-response.ts';

export type { FetchedRecord };

export interface ReadBatch {
  records: FetchedRecord[];
  /** Next offset to read after this batch. */
  nextOffset: bigint;
  /** Offsets deleted by retention before they could be read. */
  gap?: { start: bigint; end: bigint; cause: 'retention' };
}

export interface ReadRange {
  topic: string;
  topicId: string;
  partition: number;
  start: bigint;
  end: bigint;
}

export interface RangeReader {
  /**
   * Yields the range's records in offset order, in batches, until the position reaches
   * `range.end`. Throws SluiceError: TOPIC_RECREATED (not retryable), TOPIC_NOT_IN_KAFKA,
   * KAFKA (retryable); or `signal.reason` when aborted.
   */
  read(range: ReadRange, signal?: AbortSignal): AsyncIterable<ReadBatch>;
  close(): Promise<void>;
}

export interface RangeReaderOptions {
  /** How long the broker may hold a fetch that has no data yet. @defaultValue 500 */
  maxWaitMs?: number;
  /** Failed tries in a row (with backoff, about 2 s each once grown) before a read fails. @defaultValue 15 */
  attempts?: number;
  /** Tries when Kafka says it does not know the topic or partition. @defaultValue 4 */
  unknownTopicAttempts?: number;
  /** A read whose position has not moved for this long fails. @defaultValue 60000 */
  stallTimeoutMs?: number;
}

export type RangeReaderConfig = Pick<
  WorkerConfig,
  'kafkaBrokers' | 'kafkaClientId' | 'kafkaSsl' | 'kafkaSasl' | 'fetchMaxBytes'
>;

type KafkaClient = ReturnType<typeof createKafkaClient>;
type Broker = { host: string; port: number };

interface Route {
  broker: Broker;
  leaderEpoch: number;
}

const READ_COMMITTED = 1;
const READ_UNCOMMITTED = 0;
const EARLIEST = -2n;

/** The parts of a Fetch answer (v4 to v17) this reads. */
interface FetchPartition {
  partitionIndex: number;
  errorCode: number;
  highWatermark: bigint;
  lastStableOffset: bigint;
  abortedTransactions: Array<{ producerId: bigint; firstOffset: bigint }> | null;
  /** Decoded by @platformatic/kafka (v4 to v11), or left encoded by our parser (v12 to v17). */
  records?: Array<WireBatch | LazyBatch> | null;
}
interface FetchAnswer {
  throttleTimeMs: number;
  errorCode: number;
  responses: Array<{ partitions: FetchPartition[] }>;
}

type FetchApi = API<unknown[], FetchAnswer>;

/** The library's request writers of the versions our parser reads. */
const FETCH_REQUESTS: Record<number, (...args: never[]) => unknown> = {
  12: fetchV12.createRequest,
  13: fetchV13.createRequest,
  14: fetchV14.createRequest,
  15: fetchV15.createRequest,
  16: fetchV16.createRequest,
  17: fetchV17.createRequest,
};
const fetchApis = new Map<number, FetchApi>();

/**
 * Fetch at `version` with the library's request writer and our answer parser
 * (kafka-fetch-response.ts), or undefined for a version our parser does not read. The
 * answer's body is made contiguous once (a view when it arrived in one piece).
 */
function ownFetchApi(version: number): FetchApi | undefined {
  const createRequest = FETCH_REQUESTS[version];
  if (!createRequest) return undefined;
  let api = fetchApis.get(version);
  if (!api) {
    api = createAPI<unknown[], FetchAnswer>(
      1,
      version,
      createRequest as never,
      (_correlationId: number, _apiKey: number, apiVersion: number, reader: Reader) =>
        parseFetchAnswer(reader.buffer.slice(reader.position, reader.buffer.length), apiVersion),
    );
    fetchApis.set(version, api);
  }
  return api;
}

type Settled = { value: { partition: FetchPartition; throttleTimeMs: number } } | { error: unknown };

/** Never rejects: an answer kept for later must not become an unhandled rejection. */
function settle(p: Promise<{ partition: FetchPartition; throttleTimeMs: number }>): Promise<Settled> {
  return p.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}

const minOffset = (a: bigint, b: bigint): bigint => (a < b ? a : b);

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The read was aborted', 'AbortError');
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal as AbortSignal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Settles with `p`, or rejects at once when `signal` aborts (the late answer is dropped). */
function abortable<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) {
    p.catch(() => {});
    return Promise.reject(abortReason(signal));
  }
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      p.catch(() => {});
      reject(abortReason(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

class KafkaRangeReader implements RangeReader {
  readonly #cfg: RangeReaderConfig;
  readonly #log: Logger | undefined;
  readonly #client: KafkaClient;
  readonly #maxWaitMs: number;
  readonly #attempts: number;
  readonly #unknownTopicAttempts: number;
  readonly #stallTimeoutMs: number;

  constructor(cfg: RangeReaderConfig, log: Logger | undefined, options: RangeReaderOptions) {
    this.#cfg = cfg;
    this.#log = log;
    this.#client = createKafkaClient(cfg);
    this.#maxWaitMs = options.maxWaitMs ?? 500;
    this.#attempts = options.attempts ?? 15;
    this.#unknownTopicAttempts = options.unknownTopicAttempts ?? 4;
    this.#stallTimeoutMs = options.stallTimeoutMs ?? 60_000;
  }

  async *read(range: ReadRange, signal?: AbortSignal): AsyncGenerator<ReadBatch> {
    if (range.start < 0n || range.end < range.start) {
      throw new SluiceError(
        ErrorCodes.VALIDATION,
        `range [${range.start}, ${range.end}) of ${range.topic}/${range.partition} is not a valid half-open offset range`,
      );
    }
    const log = this.#log?.child({
      topic: range.topic,
      partition: range.partition,
      range: rangeLabel(range),
    });
    const where = `${range.topic}/${range.partition}`;
    let position = range.start;
    if (position >= range.end) return;
    let route = await this.#route(range, signal);
    let failures = 0;
    let progressAt = Date.now();

    const retry = async (cause: unknown, action: string) => {
      failures++;
      if (failures >= this.#attempts || !healsByWaiting(cause)) {
        throw kafkaError(cause, this.#cfg, `${action} (${failures} tries)`);
      }
      log?.warn({ err: errorText(cause), attempt: failures, offset: position }, 'kafka fetch retry');
      await sleep(kafkaBackoffMs(failures - 1), signal);
      route = await this.#route(range, signal);
    };

    // The next fetch is sent as soon as an answer is in, before the caller gets its records,
    // so that Kafka's read and transfer overlap the caller's work. Still one fetch in flight;
    // at most two answers in memory (the caller's and the one arriving).
    let ahead: { position: bigint; route: Route; answer: Promise<Settled> } | null = null;
    while (position < range.end) {
      if (signal?.aborted) throw abortReason(signal);
      const pending: Promise<Settled> =
        ahead && ahead.position === position && ahead.route === route
          ? ahead.answer
          : settle(this.#fetch(route, range, position));
      ahead = null;
      const settled = await abortable(pending, signal);
      if ('error' in settled) {
        const err = settled.error;
        if (err instanceof SluiceError) throw err;
        await retry(err, `fetch ${where} at offset ${position}`);
        continue;
      }
      const answer = settled.value;
      const p = answer.partition;
      const code = p.errorCode;
      if (code === KafkaErrorCodes.NONE) {
        failures = 0;
        const { records, next } = committedRecords(
          p.records ?? [],
          p.abortedTransactions,
          position,
          range.end,
        );
        if (next > position) {
          position = next;
          progressAt = Date.now();
          if (position < range.end && answer.throttleTimeMs === 0) {
            ahead = { position, route, answer: settle(this.#fetch(route, range, position)) };
          }
          yield { records, nextOffset: position };
        } else if (Date.now() - progressAt > this.#stallTimeoutMs) {
          throw new SluiceError(
            ErrorCodes.KAFKA,
            `no record at offset ${position} of ${where} for ${Date.now() - progressAt} ms (last stable offset ${p.lastStableOffset}, high watermark ${p.highWatermark}); the range ends at ${range.end}, beyond what Kafka can give read_committed: an open transaction holds it back, or the log was truncated`,
            {
              retryable: true,
              details: { offset: String(position), lastStable: String(p.lastStableOffset) },
            },
          );
        }
        if (answer.throttleTimeMs > 0) await sleep(answer.throttleTimeMs, signal);
      } else if (code === KafkaErrorCodes.OFFSET_OUT_OF_RANGE) {
        const earliest = await this.#earliest(range, signal);
        if (earliest !== null && position < earliest) {
          const gapEnd = minOffset(earliest, range.end);
          log?.warn(
            { gapStart: String(position), gapEnd: String(gapEnd) },
            'range start deleted by retention',
          );
          const gap = { start: position, end: gapEnd, cause: 'retention' as const };
          position = gapEnd;
          failures = 0;
          progressAt = Date.now();
          yield { records: [], nextOffset: position, gap };
        } else {
          // Above the end of the log: a truncation after an unclean leader election, or a
          // replica that is behind. Retried; it fails with the offsets in the message.
          await retry(
            new Error(`offset ${position} is out of range (log start ${earliest ?? 'unknown'})`),
            `fetch ${where} at offset ${position}`,
          );
        }
      } else if (KAFKA_LEADERSHIP_CODES.has(code)) {
        await retry(new Error(kafkaErrorName(code)), `fetch ${where} at offset ${position}`);
      } else if (
        code === KafkaErrorCodes.UNKNOWN_TOPIC_OR_PARTITION ||
        code === KafkaErrorCodes.UNKNOWN_TOPIC_ID ||
        code === KafkaErrorCodes.INCONSISTENT_TOPIC_ID
      ) {
        // Fresh metadata tells a re-created or deleted topic (thrown by #route) from a broker
        // that has not heard of a new leader yet (retried).
        await retry(new Error(kafkaErrorName(code)), `fetch ${where} at offset ${position}`);
      } else {
        throw kafkaError(new Error(kafkaErrorName(code)), this.#cfg, `fetch ${where} at offset ${position}`);
      }
    }
  }

  async #fetch(
    route: Route,
    range: ReadRange,
    position: bigint,
  ): Promise<{ partition: FetchPartition; throttleTimeMs: number }> {
    const maxBytes = this.#cfg.fetchMaxBytes;
    const response = await this.#send(route.broker, (api) => [
      this.#maxWaitMs,
      1,
      maxBytes,
      READ_COMMITTED,
      0, // no fetch session ...
      -1, // ... and none to be made (FINAL_EPOCH): a full fetch each time
      [
        {
          // Fetch v13+ names the topic by id: a re-created topic answers UNKNOWN_TOPIC_ID.
          topicId: api.version >= 13 ? range.topicId : range.topic,
          partitions: [
            {
              partition: range.partition,
              currentLeaderEpoch: route.leaderEpoch,
              fetchOffset: position,
              lastFetchedEpoch: -1,
              partitionMaxBytes: maxBytes,
            },
          ],
        },
      ],
      [],
      '',
    ]);
    const partition = response.responses
      .flatMap((t) => t.partitions)
      .find((p) => p.partitionIndex === range.partition);
    if (!partition) {
      // A top-level error (the whole request refused) or an answer without our partition.
      const code = response.errorCode || KafkaErrorCodes.UNKNOWN_TOPIC_OR_PARTITION;
      throw new Error(`fetch answered ${kafkaErrorName(code)} without partition data`);
    }
    return { partition, throttleTimeMs: response.throttleTimeMs };
  }

  /**
   * Sends one Fetch at the highest version both sides speak (as `kafkaCall` does), through
   * our own answer parser where it reads that version. Resolves with answers that carry
   * error codes; rejects only when there is no answer.
   */
  async #send(broker: Broker, args: (api: { version: number }) => unknown[]): Promise<FetchAnswer> {
    const connection = await this.#client.connections.get(broker);
    const negotiated = await new Promise<FetchApi>((resolve, reject) => {
      this.#client[kGetApi]<unknown[], FetchAnswer>('Fetch', (err, api) =>
        err ? reject(err) : resolve(api as FetchApi),
      );
    });
    const api = ownFetchApi(negotiated.version) ?? negotiated;
    return new Promise((resolve, reject) => {
      api(connection, ...args(api), (err: Error | null, response?: FetchAnswer) => {
        // The library's parser throws an error that carries the answer when it holds error codes.
        const withResponse = (err as { response?: FetchAnswer } | null)?.response;
        if (err && withResponse === undefined) reject(err);
        else resolve((response ?? withResponse) as FetchAnswer);
      });
    });
  }

  /** The current leader of the range's partition, after checking the topic id. */
  async #route(range: ReadRange, signal?: AbortSignal): Promise<Route> {
    const where = `${range.topic}/${range.partition}`;
    let failures = 0;
    let unknown = 0;
    for (;;) {
      let problem: unknown;
      try {
        const view = await abortable(kafkaMetadata(this.#client, [range.topic]), signal);
        const t = view.topics.get(range.topic);
        const p = t?.partitions[range.partition];
        if (t && t.errorCode === KafkaErrorCodes.NONE && t.topicId !== range.topicId) {
          throw new SluiceError(
            ErrorCodes.TOPIC_RECREATED,
            `topic "${range.topic}" was deleted and re-created in Kafka (topic id ${t.topicId}, the range was planned for ${range.topicId}); its offsets started again, so Sluice stops this topic rather than overwrite the old objects: re-register it to read the new one`,
            { retryable: false, details: { kafkaTopicId: t.topicId, rangeTopicId: range.topicId } },
          );
        }
        if (!t || t.errorCode === KafkaErrorCodes.UNKNOWN_TOPIC_OR_PARTITION || (t.errorCode === 0 && !p)) {
          unknown++;
          if (unknown >= this.#unknownTopicAttempts) {
            throw new SluiceError(
              ErrorCodes.TOPIC_NOT_IN_KAFKA,
              t && t.errorCode === 0
                ? `topic "${range.topic}" has no partition ${range.partition} in Kafka at ${this.#cfg.kafkaBrokers.join(',')}`
                : `topic "${range.topic}" no longer exists in Kafka at ${this.#cfg.kafkaBrokers.join(',')}; its ranges cannot be read: unregister the topic`,
              { retryable: false },
            );
          }
          problem = new Error(`metadata: ${where} unknown`);
        } else if (t.errorCode !== KafkaErrorCodes.NONE) {
          problem = new Error(`metadata: topic ${kafkaErrorName(t.errorCode)}`);
        } else if (p && p.leaderId >= 0 && view.brokers.has(p.leaderId)) {
          return { broker: view.brokers.get(p.leaderId) as Broker, leaderEpoch: p.leaderEpoch };
        } else {
          problem = new Error(`metadata: ${where} has no leader (${kafkaErrorName(p?.errorCode ?? 5)})`);
        }
      } catch (err) {
        if (err instanceof SluiceError) throw err;
        if (signal?.aborted) throw abortReason(signal);
        problem = err;
      }
      failures++;
      if (failures >= this.#attempts || !healsByWaiting(problem)) {
        throw kafkaError(problem, this.#cfg, `find the leader of ${where} (${failures} tries)`);
      }
      // Said at each try, like a fetch retry: a broker outage would otherwise be silent for
      // up to `attempts` tries.
      this.#log?.warn(
        { err: errorText(problem), attempt: failures, topic: range.topic, partition: range.partition },
        'kafka metadata retry',
      );
      await sleep(kafkaBackoffMs(failures - 1), signal);
    }
  }

  /** The log start offset of the range's partition, or null when Kafka would not say. */
  async #earliest(range: ReadRange, signal?: AbortSignal): Promise<bigint | null> {
    try {
      const view = await abortable(kafkaMetadata(this.#client, [range.topic]), signal);
      const [listed] = await abortable(
        kafkaListOffsets(this.#client, view, range.topic, [range.partition], EARLIEST, READ_UNCOMMITTED),
        signal,
      );
      return listed && listed.errorCode === KafkaErrorCodes.NONE ? listed.offset : null;
    } catch (err) {
      if (signal?.aborted) throw abortReason(signal);
      this.#log?.warn(
        { err: errorText(err), topic: range.topic, partition: range.partition },
        'log start lookup failed',
      );
      return null;
    }
  }

  async close(): Promise<void> {
    await this.#client.close();
  }
}

/**
 * The worker's range reader. One per worker process: it keeps its broker connections across
 * reads; several reads may run at once (one fetch in flight each).
 */
export function createRangeReader(
  cfg: RangeReaderConfig,
  log?: Logger,
  options: RangeReaderOptions = {},
): RangeReader {
  return new KafkaRangeReader(cfg, log, options);
}
