/**
 * Kafka layer, top: the admin, the master's (and tools') view of Kafka: topic ids,
 * partitions and offsets, with retries, built on the layers below (options, wire call,
 * metadata, list-offsets, errors).
 *
 * Built on @platformatic/kafka's base client and its protocol APIs, not on its Admin helpers:
 *  - kafkajs speaks Metadata v6 at most and cannot see topic ids (they arrive with v10);
 *  - the library's `metadata()` turns one unknown topic into an error for the whole request,
 *    while Sluice needs "this topic is missing, that one is fine" from one answer;
 *  - its retry loop and error texts know nothing of Sluice's settings. Here a protocol error
 *    code is data (call.ts resolves with the response), retries are ours, and what reaches
 *    the caller is a {@link SluiceError} whose message names the brokers and the fix.
 *
 * Offsets are three ListOffsets answers per partition leader: earliest (timestamp -2), the
 * high watermark (-1, read_uncommitted) and the last stable offset (-1, read_committed). They
 * are asked in that order because each only grows, so `earliest <= lastStable <= latest`
 * holds in the result even while producers write (except after a DeleteRecords past an open
 * transaction, where Kafka itself has the log start above the last stable offset).
 */

import { ErrorCodes, SluiceError } from '../errors.ts';
import { COORDINATOR_CODES, CoordinatorError } from './coordinator.ts';
import { healsByWaiting, KafkaErrorCodes, kafkaBackoffMs, kafkaError, kafkaErrorName } from './errors.ts';
import { FetchIsolationLevels, ListOffsetTimestamps } from './library.ts';
import { kafkaListOffsets, kafkaListOffsetsOfTopics, type ListedOffset } from './list-offsets.ts';
import { type ClusterView, kafkaMetadata } from './metadata.ts';
import { type ConsumerGroupView, GroupRequestError, kafkaConsumerGroup } from './offset-fetch.ts';
import { createKafkaClient, type KafkaClient, type KafkaSettings } from './options.ts';

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

/** A topic as {@link KafkaAdmin.topicOffsets} found it. */
export interface TopicOffsets {
  /**
   * Null when Kafka does not have the topic (`error` null) or when it could not be described
   * (`error` says why: then nothing is known of the topic, not even that it is gone).
   */
  metadata: TopicMetadata | null;
  /** Every partition's offsets, partitions ascending; null when `error` is set or the topic is gone. */
  offsets: PartitionOffsets[] | null;
  error: SluiceError | null;
}

/**
 * Offsets a caller saw at its last look, by topic and partition, for {@link
 * KafkaAdmin.topicOffsets} to ask only the high watermark of those partitions (one request
 * per broker) and reuse the rest while it has not moved. Sound because each offset only grows
 * and lastStable <= latest: a watermark where it was, whose last stable offset was at it,
 * keeps its last stable offset there. The log start offset is reused as it was: the caller
 * lists only partitions where a newer one changes nothing (the leader: partitions planned up
 * to their watermark, which retention cannot pass).
 */
export type KnownOffsets = ReadonlyMap<string, ReadonlyMap<number, PartitionOffsets>>;

/** How {@link KafkaAdmin.topicOffsets} may answer. */
export interface TopicOffsetsOptions {
  /**
   * A topic every partition of which is in `known` and whose high watermarks have not moved is
   * answered from the Metadata an earlier call got for it, if younger than this, without
   * asking it again: nothing of it moved, so nothing can be planned whatever the metadata would
   * say. The watermarks of all such topics are asked in one ListOffsets request per broker;
   * only the other topics (something moved, failed or is unknown) are asked their Metadata,
   * afresh. Its age bounds how long new partitions of a quiet topic, or a topic re-created
   * with the same watermarks, go unseen. Absent: Metadata of every topic every call.
   */
  metadataMaxAgeMs?: number;
}

export interface KafkaAdmin {
  /** Metadata of each topic; a topic Kafka does not have maps to null. */
  topicMetadata(topics: string[]): Promise<Map<string, TopicMetadata | null>>;
  /**
   * The names of every topic Kafka has (that the principal may describe), for the topic
   * patterns' discovery. Optional: stand-ins of tests and benchmarks that register no pattern
   * leave it out, and discovery then finds nothing.
   */
  topicNames?(): Promise<string[]>;
  /** Offsets of the given partitions of one topic. */
  offsets(topic: string, partitions: number[]): Promise<PartitionOffsets[]>;
  /**
   * Metadata and every partition's offsets of many topics at once: one Metadata request and
   * three ListOffsets rounds of one request per broker, whatever the number of topics. A topic
   * whose answer carries an error code is asked again (with fresh metadata, the other topics
   * not), then reported with its `error`; rejects only when Kafka could not be asked at all.
   * With `known`, a partition listed there whose high watermark is where it was costs only
   * that watermark (see {@link KnownOffsets}).
   */
  topicOffsets(
    topics: string[],
    known?: KnownOffsets,
    options?: TopicOffsetsOptions,
  ): Promise<Map<string, TopicOffsets>>;
  /**
   * Per partition, the first offset whose record timestamp is at or after `timestampMs`
   * (ListOffsets with a time); null where no record is that new (the caller takes the end).
   */
  offsetsAtTime(
    topic: string,
    partitions: number[],
    timestampMs: number,
  ): Promise<Map<number, bigint | null>>;
  /** A consumer group's committed offsets for `partitions` of `topic`, and its members now. */
  consumerGroup(group: string, topic: string, partitions: number[]): Promise<ConsumerGroupView>;
  close(): Promise<void>;
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
  readonly #client: KafkaClient;
  readonly #attempts: number;
  /**
   * Each topic's Metadata as the last {@link topicOffsets} round that asked it found it, with
   * the brokers of the latest answer (`metadataMaxAgeMs`).
   */
  readonly #metadata: ClusterView = { brokers: new Map(), topics: new Map() };
  readonly #metadataAt = new Map<string, number>();

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
          throw this.#refused(name);
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

  topicNames(): Promise<string[]> {
    return this.#retrying('list topics', async () => {
      const view = await kafkaMetadata(this.#client, null);
      return [...view.topics.keys()].sort();
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

  async topicOffsets(
    topics: string[],
    known?: KnownOffsets,
    options: TopicOffsetsOptions = {},
  ): Promise<Map<string, TopicOffsets>> {
    const out = new Map<string, TopicOffsets>();
    let pending = [...new Set(topics)];
    let probed: Map<string, ListedOffset[]> | undefined;
    if (known && options.metadataMaxAgeMs !== undefined) {
      // A failure here (a broker gone) leaves every topic to the full round.
      const still = await this.#stillTopics(pending, known, options.metadataMaxAgeMs, out).catch(() => null);
      if (still) {
        pending = still.pending;
        probed = still.probe;
      }
    }
    let failure: unknown;
    for (let attempt = 0; attempt < this.#attempts && pending.length > 0; attempt++) {
      if (attempt > 0) await sleep(kafkaBackoffMs(attempt - 1));
      try {
        // The watermarks asked just now serve the first round, not a retry.
        const first = attempt === 0 ? probed : undefined;
        pending = await this.#offsetsRound(pending, out, attempt === this.#attempts - 1, known, first);
      } catch (err) {
        if (err instanceof SluiceError) throw err;
        failure = err;
        if (!healsByWaiting(err)) break;
      }
    }
    if (pending.length > 0) {
      throw kafkaError(failure, this.#cfg, `list offsets of topics ${pending.join(',')}`);
    }
    return out;
  }

  /**
   * The quiet part of {@link topicOffsets}: the topics whose cached Metadata is younger than
   * `maxAgeMs` and whose every partition is in `known` with its last stable offset at its
   * watermark have their watermarks asked, one ListOffsets request per broker for all of them;
   * those where every watermark is where it was are answered into `out` from the cache. The
   * rest are returned to be asked in full, with the watermarks just asked (`probe`).
   */
  async #stillTopics(
    names: string[],
    known: KnownOffsets,
    maxAgeMs: number,
    out: Map<string, TopicOffsets>,
  ): Promise<{ pending: string[]; probe: Map<string, ListedOffset[]> }> {
    const now = Date.now();
    const asked = new Map<string, number[]>();
    for (const name of names) {
      const t = this.#metadata.topics.get(name);
      const before = known.get(name);
      const at = this.#metadataAt.get(name);
      if (!t || !before || at === undefined || now - at >= maxAgeMs) continue;
      if (t.errorCode !== KafkaErrorCodes.NONE) continue;
      const partitions = t.partitions.filter(Boolean).map((p) => p.partition);
      const quiet = partitions.every((p) => {
        const prev = before.get(p);
        return prev !== undefined && prev.lastStable === prev.latest;
      });
      if (quiet) asked.set(name, partitions);
    }
    if (asked.size === 0) return { pending: names, probe: new Map() };
    const probe = await kafkaListOffsetsOfTopics(
      this.#client,
      this.#metadata,
      asked,
      ListOffsetTimestamps.LATEST,
      FetchIsolationLevels.READ_UNCOMMITTED,
    );
    const pending: string[] = [];
    for (const name of names) {
      const partitions = asked.get(name);
      const before = known.get(name);
      const listed = new Map((probe.get(name) ?? []).map((l) => [l.partition, l]));
      const offsets: PartitionOffsets[] = [];
      for (const partition of partitions ?? []) {
        const prev = before?.get(partition);
        const hw = listed.get(partition);
        if (!prev || hw?.errorCode !== KafkaErrorCodes.NONE || hw.offset !== prev.latest) break;
        offsets.push(prev.partition === partition ? prev : { ...prev, partition });
      }
      if (!partitions || offsets.length < partitions.length) {
        pending.push(name);
        continue;
      }
      const topicId = this.#metadata.topics.get(name)!.topicId;
      out.set(name, { metadata: { topic: name, topicId, partitions }, offsets, error: null });
    }
    return { pending, probe };
  }

  /**
   * One try of {@link topicOffsets}: fills `out` with the topics settled and returns those to
   * ask again (on the last try, none: each gets its error instead).
   */
  async #offsetsRound(
    names: string[],
    out: Map<string, TopicOffsets>,
    last: boolean,
    known: KnownOffsets | undefined,
    probed?: ReadonlyMap<string, ListedOffset[]>,
  ): Promise<string[]> {
    const view = await kafkaMetadata(this.#client, names);
    const at = Date.now();
    this.#metadata.brokers = view.brokers;
    for (const [name, t] of view.topics) {
      this.#metadata.topics.set(name, t);
      this.#metadataAt.set(name, at);
    }
    const again: string[] = [];
    const failed = (name: string, metadata: TopicMetadata | null, why: string, code: number) => {
      if (!last) again.push(name);
      else {
        const error = kafkaError(new Transient(why, code), this.#cfg, `list offsets of topic ${name}`);
        out.set(name, { metadata, offsets: null, error });
      }
    };
    const asked = new Map<string, number[]>();
    const metas = new Map<string, TopicMetadata>();
    for (const name of names) {
      const t = view.topics.get(name);
      if (!t || t.errorCode === KafkaErrorCodes.UNKNOWN_TOPIC_OR_PARTITION) {
        out.set(name, { metadata: null, offsets: null, error: null });
      } else if (t.errorCode === KafkaErrorCodes.TOPIC_AUTHORIZATION_FAILED) {
        out.set(name, { metadata: null, offsets: null, error: this.#refused(name) });
      } else if (t.errorCode !== KafkaErrorCodes.NONE) {
        failed(name, null, `topic "${name}": ${kafkaErrorName(t.errorCode)}`, t.errorCode);
      } else {
        const partitions = t.partitions.filter(Boolean).map((p) => p.partition);
        metas.set(name, { topic: name, topicId: t.topicId, partitions });
        asked.set(name, partitions);
      }
    }
    if (asked.size === 0) return again;
    // With what the caller saw last: the high watermarks first, and the three columns only for
    // the partitions whose watermark moved (or that the caller does not know as quiet).
    const quiet = new Map<string, Map<number, PartitionOffsets>>();
    let full: Map<string, number[]> = asked;
    if (known && known.size > 0) {
      // Topics whose watermarks were just asked (#stillTopics) are not asked them again.
      const unprobed = new Map([...asked].filter(([name]) => !probed?.has(name)));
      const probe =
        unprobed.size === 0
          ? new Map<string, ListedOffset[]>()
          : await kafkaListOffsetsOfTopics(
              this.#client,
              view,
              unprobed,
              ListOffsetTimestamps.LATEST,
              FetchIsolationLevels.READ_UNCOMMITTED,
            );
      full = new Map();
      for (const [name, partitions] of asked) {
        const before = known.get(name);
        const rows = probed?.get(name) ?? probe.get(name) ?? [];
        const now = new Map(rows.map((l) => [l.partition, l]));
        const still = new Map<number, PartitionOffsets>();
        const moved: number[] = [];
        for (const partition of partitions) {
          const prev = before?.get(partition);
          const hw = now.get(partition);
          // lastStable <= latest, and both only grow: a watermark where it was, with the last
          // stable offset at it then, leaves the last stable offset there too.
          const same = hw?.errorCode === KafkaErrorCodes.NONE && hw.offset === prev?.latest;
          if (prev && same && prev.lastStable === prev.latest)
            still.set(partition, prev.partition === partition ? prev : { ...prev, partition });
          else moved.push(partition);
        }
        quiet.set(name, still);
        if (moved.length > 0) full.set(name, moved);
      }
    }
    // In this order: each value only grows, so earliest <= lastStable <= latest.
    const columns = [
      [ListOffsetTimestamps.EARLIEST, FetchIsolationLevels.READ_UNCOMMITTED],
      [ListOffsetTimestamps.LATEST, FetchIsolationLevels.READ_COMMITTED],
      [ListOffsetTimestamps.LATEST, FetchIsolationLevels.READ_UNCOMMITTED],
    ] as const;
    const listed: Array<Map<string, ListedOffset[]>> = [];
    if (full.size > 0) {
      for (const [timestamp, isolation] of columns) {
        listed.push(await kafkaListOffsetsOfTopics(this.#client, view, full, timestamp, isolation));
      }
    }
    for (const [name, partitions] of asked) {
      const metadata = metas.get(name) as TopicMetadata;
      const still = quiet.get(name);
      const [earliest, lastStable, latest] = [0, 1, 2].map(
        (i) => new Map((listed[i]?.get(name) ?? []).map((l) => [l.partition, l])),
      ) as [Map<number, ListedOffset>, Map<number, ListedOffset>, Map<number, ListedOffset>];
      const offsets: PartitionOffsets[] = [];
      let bad: ListedOffset | undefined;
      for (const partition of partitions) {
        const kept = still?.get(partition);
        if (kept) {
          offsets.push(kept);
          continue;
        }
        const missing = { partition, errorCode: KafkaErrorCodes.UNKNOWN_TOPIC_OR_PARTITION, offset: -1n };
        const row = [earliest, lastStable, latest].map((c) => c.get(partition) ?? missing);
        bad = row.find((l) => l.errorCode !== KafkaErrorCodes.NONE);
        if (bad) break;
        const [e, s, l] = row as [ListedOffset, ListedOffset, ListedOffset];
        offsets.push({ partition, earliest: e.offset, latest: l.offset, lastStable: s.offset });
      }
      if (bad) {
        const why = `topic "${name}" partition ${bad.partition}: ${kafkaErrorName(bad.errorCode)}`;
        failed(name, metadata, why, bad.errorCode);
      } else {
        out.set(name, { metadata, offsets, error: null });
      }
    }
    return again;
  }

  #refused(name: string): SluiceError {
    return new SluiceError(
      ErrorCodes.KAFKA,
      `Kafka at ${this.#cfg.kafkaBrokers.join(',')} refused to describe topic "${name}" (TOPIC_AUTHORIZATION_FAILED); grant the Sluice principal DESCRIBE and READ on it`,
      { retryable: true },
    );
  }

  offsetsAtTime(
    topic: string,
    partitions: number[],
    timestampMs: number,
  ): Promise<Map<number, bigint | null>> {
    return this.#retrying(
      `list offsets of topic ${topic} at ${new Date(timestampMs).toISOString()}`,
      async () => {
        const view = await kafkaMetadata(this.#client, [topic]);
        const listed = await kafkaListOffsets(
          this.#client,
          view,
          topic,
          partitions,
          BigInt(timestampMs),
          FetchIsolationLevels.READ_UNCOMMITTED,
        );
        const out = new Map<number, bigint | null>();
        for (const l of listed) {
          if (l.errorCode !== KafkaErrorCodes.NONE) {
            throw new Transient(
              `topic "${topic}" partition ${l.partition}: ${kafkaErrorName(l.errorCode)}`,
              l.errorCode,
            );
          }
          // -1: no record at or after the time.
          out.set(l.partition, l.offset < 0n ? null : l.offset);
        }
        return out;
      },
    );
  }

  consumerGroup(group: string, topic: string, partitions: number[]): Promise<ConsumerGroupView> {
    return this.#retrying(`read consumer group ${JSON.stringify(group)}`, async () => {
      try {
        return await kafkaConsumerGroup(this.#client, group, topic, partitions);
      } catch (err) {
        if (!(err instanceof CoordinatorError || err instanceof GroupRequestError)) throw err;
        // 88 UNSTABLE_OFFSET_COMMIT: a transaction of the group's is still open; it ends soon.
        if (COORDINATOR_CODES.has(err.kafkaCode) || err.kafkaCode === 88) {
          throw new Transient(err.message, err.kafkaCode);
        }
        // 29/30 TOPIC/GROUP_AUTHORIZATION_FAILED and the like: no retry heals them.
        const denied = err.kafkaCode === 29 || err.kafkaCode === 30;
        throw new SluiceError(
          ErrorCodes.KAFKA,
          `Kafka at ${this.#cfg.kafkaBrokers.join(',')} refused to read consumer group ${JSON.stringify(group)} (${err.message}); ${denied ? 'grant the Sluice principal DESCRIBE on the group and on the topic' : 'check the group id and the brokers'}`,
          { retryable: false },
        );
      }
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
