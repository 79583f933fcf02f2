/**
 * The Kafka side of a worker: reads exactly `[start, end)` of one partition.
 *
 * This file is the range loop only; requests, the answer parser and the read_committed filter
 * are @sluice/shared's Kafka layer (packages/shared/src/kafka/).
 *
 * How (DESIGN.md, "Edges that a real Kafka has"):
 *  - Group-free: plain Fetch requests to the partition's current leader, found through
 *    Metadata; no consumer group is joined, no offset is committed, no fetch session is used
 *    (shared kafka/fetch.ts).
 *  - read_committed, with aborted transactions dropped (shared kafka/committed-records.ts),
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
  committedRecords,
  createKafkaClient,
  ErrorCodes,
  errorText,
  type FetchedRecord,
  FetchIsolationLevels,
  fetchPartition,
  healsByWaiting,
  KAFKA_LEADERSHIP_CODES,
  type KafkaClient,
  KafkaErrorCodes,
  type KafkaSettings,
  kafkaBackoffMs,
  kafkaError,
  kafkaErrorName,
  kafkaLogStartOffset,
  kafkaMetadata,
  type LeaderRoute,
  type Logger,
  type PartitionFetch,
  partitionLeader,
  rangeLabel,
  SluiceError,
  type WorkerConfig,
} from '@sluice/shared';

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
  /**
   * One metadata request for `topic`: passes when the brokers answer this worker (the probe of
   * a worker that could not reach Kafka). Throws SluiceError KAFKA otherwise.
   */
  probe?(topic: string): Promise<void>;
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

export type RangeReaderConfig = KafkaSettings & Pick<WorkerConfig, 'fetchMaxBytes'>;

type Settled = { value: PartitionFetch } | { error: unknown };

/** Never rejects: an answer kept for later must not become an unhandled rejection. */
function settle(p: Promise<PartitionFetch>): Promise<Settled> {
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
    let ahead: { position: bigint; route: LeaderRoute; answer: Promise<Settled> } | null = null;
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

  /** One read_committed fetch of the range's partition at `position`, from its leader. */
  #fetch(route: LeaderRoute, range: ReadRange, position: bigint): Promise<PartitionFetch> {
    return fetchPartition(this.#client, route.broker, {
      topic: range.topic,
      topicId: range.topicId,
      partition: range.partition,
      leaderEpoch: route.leaderEpoch,
      offset: position,
      maxWaitMs: this.#maxWaitMs,
      maxBytes: this.#cfg.fetchMaxBytes,
      isolationLevel: FetchIsolationLevels.READ_COMMITTED,
    });
  }

  /** The current leader of the range's partition, after checking the topic id. */
  async #route(range: ReadRange, signal?: AbortSignal): Promise<LeaderRoute> {
    const where = `${range.topic}/${range.partition}`;
    let failures = 0;
    let unknown = 0;
    for (;;) {
      let problem: unknown;
      try {
        const view = await abortable(kafkaMetadata(this.#client, [range.topic]), signal);
        const t = view.topics.get(range.topic);
        const p = t?.partitions[range.partition];
        const leader = partitionLeader(view, range.topic, range.partition);
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
        } else if (leader) {
          return leader;
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
      return await abortable(kafkaLogStartOffset(this.#client, range.topic, range.partition), signal);
    } catch (err) {
      if (signal?.aborted) throw abortReason(signal);
      this.#log?.warn(
        { err: errorText(err), topic: range.topic, partition: range.partition },
        'log start lookup failed',
      );
      return null;
    }
  }

  async probe(topic: string): Promise<void> {
    try {
      await kafkaMetadata(this.#client, [topic]);
    } catch (err) {
      throw kafkaError(err, this.#cfg, `answer a metadata request for "${topic}" (worker probe)`);
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
