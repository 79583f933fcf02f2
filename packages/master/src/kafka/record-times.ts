/**
 * How old is the oldest record not yet in S3? It is the record at a partition's committed
 * offset, so its Kafka timestamp answers "how far behind in time" exactly, where
 * `committedMaxTimestamp` (the newest record already in S3) would count an idle producer's
 * pause as lag.
 *
 * The timestamp is read with one small Fetch per partition from its leader: `maxBytes` of 1
 * makes Kafka answer with exactly the first record batch at that offset (a fetch always returns
 * the first batch whole, however small the limit). Answers are cached by offset: a partition
 * whose committed offset did not move costs nothing, and one that moved is asked again at most
 * every `refreshMs` (meanwhile the previous, older timestamp stands, so the age shown errs on
 * the high side by at most that long).
 *
 * Unlike the sample (kafka-sample.ts), this reads read_uncommitted and counts a control batch
 * or an aborted record at the offset with its own time: with one batch per answer, the
 * read_committed filter would answer "unknown" whenever a marker sits at the committed
 * offset, while its time is as good an age of the backlog as the next record's. The request,
 * the leader lookup and the LogAppendTime rule are the shared Kafka layer's.
 */
import {
  type BatchTimes,
  type ClusterView,
  createKafkaClient,
  type FetchedRecord,
  FetchIsolationLevels,
  fetchPartition,
  isLogAppendTime,
  KafkaErrorCodes,
  type KafkaSettings,
  kafkaMetadata,
  type LazyBatch,
  partitionLeader,
  recordTimestamp,
} from '@sluice/shared';

/** A batch decoded with its records' offset and time deltas (@platformatic/kafka's `RecordsBatch`). */
export interface DecodedBatchTimes extends BatchTimes {
  firstOffset: bigint;
  records: Array<{ offsetDelta: number; timestampDelta: bigint }>;
}

/** Past any offset: the first record at or after an offset, wherever the batch ends. */
const NO_END = (1n << 63n) - 1n;

/**
 * Pure: the timestamp (ms) of the first record at or after `offset` in a Fetch answer's
 * batches (decoded, or left encoded by the shared parser), or null when the answer has none.
 * LogAppendTime batches carry the broker's time as their max timestamp; control batches
 * count with their own time.
 */
export function firstRecordTimestamp(
  batches: readonly (DecodedBatchTimes | LazyBatch)[],
  offset: bigint,
): number | null {
  for (const b of batches) {
    if ('readRecords' in b) {
      const out: FetchedRecord[] = [];
      b.readRecords(offset, NO_END, isLogAppendTime(b.attributes), out);
      if (out[0]) return Number(out[0].timestamp);
      continue;
    }
    for (const r of b.records) {
      if (b.firstOffset + BigInt(r.offsetDelta) < offset) continue;
      return Number(recordTimestamp(b, r.timestampDelta));
    }
  }
  return null;
}

export interface TimeQuery {
  topic: string;
  partition: number;
  /** The offset whose record's time is wanted (a partition's committed offset). */
  offset: bigint;
}

interface Entry {
  offset: bigint;
  timestampMs: number | null;
  checkedAtMs: number;
}

export interface RecordTimesOptions {
  /** Ask again for a partition whose offset moved at most this often. @defaultValue 5000 */
  refreshMs?: number;
  /** Fetches in flight at once. @defaultValue 8 */
  concurrency?: number;
  /** How long one lookup round may take before answering with what it has. @defaultValue 3000 */
  timeoutMs?: number;
}

const key = (topic: string, partition: number) => `${partition}\u0000${topic}`;

export class RecordTimes {
  readonly #cfg: KafkaSettings;
  readonly #refreshMs: number;
  readonly #concurrency: number;
  readonly #timeoutMs: number;
  readonly #cache = new Map<string, Entry>();
  #client: ReturnType<typeof createKafkaClient> | null = null;
  #closed = false;

  constructor(cfg: KafkaSettings, opts: RecordTimesOptions = {}) {
    this.#cfg = cfg;
    this.#refreshMs = opts.refreshMs ?? 5_000;
    this.#concurrency = opts.concurrency ?? 8;
    this.#timeoutMs = opts.timeoutMs ?? 3_000;
  }

  /**
   * Looks up (where due) the timestamps of the records at the given offsets; read them with
   * {@link RecordTimes.get}. Forgets partitions not asked for. Never throws and never takes
   * longer than `timeoutMs`: a Kafka problem leaves the previous answers (or none).
   */
  async lookup(queries: readonly TimeQuery[], nowMs = Date.now()): Promise<void> {
    const wanted = new Set(queries.map((q) => key(q.topic, q.partition)));
    for (const k of this.#cache.keys()) if (!wanted.has(k)) this.#cache.delete(k);
    const due = queries.filter((q) => {
      const e = this.#cache.get(key(q.topic, q.partition));
      return !e || (e.offset !== q.offset && nowMs - e.checkedAtMs >= this.#refreshMs);
    });
    if (due.length === 0 || this.#closed) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#ask(due, nowMs).catch(() => undefined),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.#timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }

  /** The cached timestamp of the record at the partition's last looked-up offset. */
  get(topic: string, partition: number): number | null {
    return this.#cache.get(key(topic, partition))?.timestampMs ?? null;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const c = this.#client;
    this.#client = null;
    await c?.close().catch(() => undefined);
  }

  async #ask(due: TimeQuery[], nowMs: number): Promise<void> {
    this.#client ??= createKafkaClient(this.#cfg);
    const client = this.#client;
    const view = await kafkaMetadata(client, [...new Set(due.map((q) => q.topic))]);
    let next = 0;
    const runOne = async (): Promise<void> => {
      for (let i = next++; i < due.length; i = next++) {
        const q = due[i]!;
        try {
          const ts = await this.#fetchOne(client, view, q);
          this.#cache.set(key(q.topic, q.partition), {
            offset: q.offset,
            timestampMs: ts,
            checkedAtMs: nowMs,
          });
        } catch {
          // This partition stays as it was; the next status asks again.
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#concurrency, due.length) }, runOne));
  }

  async #fetchOne(
    client: ReturnType<typeof createKafkaClient>,
    view: ClusterView,
    q: TimeQuery,
  ): Promise<number | null> {
    const t = view.topics.get(q.topic);
    const leader =
      t && t.errorCode === KafkaErrorCodes.NONE ? partitionLeader(view, q.topic, q.partition) : null;
    if (!t || !leader) throw new Error('partition has no leader now');
    const { partition: part } = await fetchPartition(client, leader.broker, {
      topic: q.topic,
      topicId: t.topicId,
      partition: q.partition,
      leaderEpoch: leader.leaderEpoch,
      offset: q.offset,
      maxWaitMs: 0, // never wait: the record is there or it is not
      maxBytes: 1, // one byte: Kafka still sends the first batch whole, and nothing after it
      isolationLevel: FetchIsolationLevels.READ_UNCOMMITTED,
    });
    if (part.errorCode !== KafkaErrorCodes.NONE) throw new Error('fetch refused');
    return firstRecordTimestamp(part.records ?? [], q.offset);
  }
}
