/**
 * The planning pass (leader only): registered topics → partition state → new ranges.
 *
 * Per topic, in order: a deleting topic with nothing in flight is removed; a paused or
 * stopped one is left alone; an active one is checked against Kafka (gone or re-created →
 * stopped, loudly), its new partitions get their state node, and each partition is planned
 * (planner.ts) on its line (range-line.ts). A range is written to ZooKeeper in a fenced multi
 * FIRST (`createRanges` of range-engine.ts, which checks that the new ranges tile the line)
 * and only then enqueued (invariant 2): a crash between the two leaves a planned range
 * without a job, which the supervisor's reconcile pass requeues.
 *
 * Kafka is asked once per pass for all active topics (`topicOffsets`: a Metadata request,
 * ListOffsets of one request per broker: the high watermarks, and the three columns only
 * of partitions whose watermark moved or that have something unplanned (`#known`), so an idle
 * pass costs one request per broker whether 1 or 500 topics are registered; the metadata is
 * what notices a topic deleted or re-created, by its id, and new partitions: asked of the topics
 * where a watermark moved, and of the others at least every QUIET_METADATA_MAX_AGE_MS), and the
 * partitions of all topics are planned together (each partition's writes
 * are its own line's; the fenced writer sends them in a few batched multis), so a pass waits
 * a few round trips for its new ranges, not one per range. A partition whose offsets did not
 * move since the pass that last looked at it, with nothing unplanned, is skipped without
 * planning or metrics.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import {
  decodeJson,
  ErrorCodes,
  encodeJson,
  errorText,
  fixedStartOf,
  isNodeExists,
  isSluiceError,
  type KafkaAdmin,
  type KnownOffsets,
  type Logger,
  mapLimit,
  newPartitionState,
  outputSpecOf,
  type PartitionOffsets,
  type PartitionState,
  partitionPath,
  partitionsPath,
  SluiceError,
  TOPICS_PATH,
  type TopicMetadata,
  type TopicOffsets,
  type TopicRecord,
  topicPath,
  type ZkOp,
} from '@sluice/shared';
import type { FencedWriter } from '../leadership/fenced-writer.ts';
import type { MasterMetrics } from '../status/metrics.ts';
import { expectedStartOffset } from '../status/partition-view.ts';
import { type AbandonOptions, abandonRanges } from '../topics/topic-abandon.ts';
import type { PartitionCache, PartitionEntry } from './partition-cache.ts';
import { noteArrival, planRanges } from './planner.ts';
import { createRanges } from './range-engine.ts';
import type { RangeEnqueuer } from './range-enqueuer.ts';
import { topicLine } from './range-line.ts';

/**
 * How old the Metadata behind a topic where nothing moved may be (`metadataMaxAgeMs`,
 * admin.ts): such topics cost one ListOffsets request per broker for all of them and nothing
 * else. A topic where a watermark moved has its Metadata asked afresh before it is planned, so
 * a topic deleted or re-created is still stopped before anything of it is planned; only new
 * partitions of a quiet topic wait up to this long to be seen.
 */
export const QUIET_METADATA_MAX_AGE_MS = 10_000;

/** Topics whose new partitions (or stop) are written at once. */
const TOPICS_AT_ONCE = 16;
/** Partitions planned at once. */
const PLAN_AT_ONCE = 4096;

interface PartitionWork {
  rec: TopicRecord;
  entry: PartitionEntry;
  o: PartitionOffsets;
  log: Logger;
}

export interface RegisteredTopic {
  record: TopicRecord;
  /** Version of the topic node as read. */
  version: number;
}

/** Every registered topic with its node version. A node that vanishes meanwhile is skipped. */
export async function readTopics(zk: FencedWriter['zk']): Promise<RegisteredTopic[]> {
  const out: RegisteredTopic[] = [];
  for (const name of (await zk.children(TOPICS_PATH)).sort()) {
    const node = await zk.get(topicPath(name));
    if (!node || node.data.length === 0) continue;
    out.push({ record: decodeJson<TopicRecord>(node.data, topicPath(name)), version: node.version });
  }
  return out;
}

/** Most ops in one multi when removing a topic (ZooKeeper limits a request to about 1 MB). */
const REMOVE_BATCH = 500;

export interface PlanningLoopOptions {
  writer: FencedWriter;
  cache: PartitionCache;
  kafka: KafkaAdmin;
  enqueuer: RangeEnqueuer;
  maxInFlightPerPartition: number;
  log: Logger;
  metrics?: MasterMetrics;
  now?: () => number;
  /** For the S3 copy of what a forced DELETE abandons (topic-abandon.ts); none: ZooKeeper only. */
  s3?: S3Client;
  conditionalWrites?: boolean;
}

export class PlanningLoop {
  readonly #writer: FencedWriter;
  readonly #cache: PartitionCache;
  readonly #kafka: KafkaAdmin;
  readonly #enqueuer: RangeEnqueuer;
  readonly #maxInFlight: number;
  readonly #log: Logger;
  readonly #metrics: MasterMetrics | undefined;
  readonly #now: () => number;
  readonly #abandon: AbandonOptions;

  constructor(opts: PlanningLoopOptions) {
    this.#writer = opts.writer;
    this.#cache = opts.cache;
    this.#kafka = opts.kafka;
    this.#enqueuer = opts.enqueuer;
    this.#maxInFlight = opts.maxInFlightPerPartition;
    this.#log = opts.log;
    this.#metrics = opts.metrics;
    this.#now = opts.now ?? Date.now;
    this.#abandon = {
      writer: opts.writer,
      enqueuer: opts.enqueuer,
      log: opts.log,
      ...(opts.s3 ? { s3: opts.s3 } : {}),
      conditionalWrites: opts.conditionalWrites ?? false,
    };
  }

  /**
   * Loads every registered topic into the cache and forgets topics no longer registered.
   * Runs before the tracker, so that paused, stopped and deleting topics are tracked too.
   */
  async syncTopics(topics: RegisteredTopic[]): Promise<void> {
    const names = new Set(topics.map((t) => t.record.topic));
    for (const t of this.#cache.topics()) if (!names.has(t)) this.#cache.forget(t);
    for (const t of topics) await this.#cache.ensure(this.#writer.zk, t.record.topic);
  }

  /** One planning pass. A NOT_LEADER ends it (the caller steps down). */
  async pass(topics: RegisteredTopic[]): Promise<void> {
    await this.#enqueuer.retryPending();
    const active = topics.filter((t) => t.record.state === 'active' && !t.record.paused);
    let kafka = new Map<string, TopicOffsets>();
    if (active.length > 0) {
      try {
        kafka = await this.#kafka.topicOffsets(
          active.map((t) => t.record.topic),
          this.#known(active),
          {
            metadataMaxAgeMs: QUIET_METADATA_MAX_AGE_MS,
          },
        );
      } catch (err) {
        this.#log.warn({ err }, 'kafka metadata failed; planning skipped');
        kafka = new Map();
        active.length = 0;
      }
    }
    const work: PartitionWork[] = [];
    for (const t of topics) {
      if (t.record.state !== 'deleting') continue;
      const log = this.#log.child({ topic: t.record.topic });
      try {
        await this.#removeIfDrained(t, log);
      } catch (err) {
        if (isSluiceError(err, ErrorCodes.NOT_LEADER)) throw err;
        log.warn({ err }, 'planning failed');
      }
    }
    const planned = active.filter((t) => kafka.has(t.record.topic));
    await mapLimit(planned, TOPICS_AT_ONCE, async (t) => {
      const log = this.#log.child({ topic: t.record.topic });
      try {
        work.push(...(await this.#topicWork(t, kafka.get(t.record.topic) as TopicOffsets, log)));
      } catch (err) {
        if (isSluiceError(err, ErrorCodes.NOT_LEADER)) throw err;
        log.warn({ err }, 'planning failed');
      }
    });
    // New ranges are written by batched multis (fenced-writer.ts): the more partitions at
    // once, the fewer multis; PLAN_AT_ONCE bounds what waits in memory for its enqueue.
    await mapLimit(work, PLAN_AT_ONCE, async (w) => {
      try {
        await this.#planPartition(w.rec, w.entry, w.o, w.log);
      } catch (err) {
        if (isSluiceError(err, ErrorCodes.NOT_LEADER)) throw err;
        w.log.warn({ err, partition: w.entry.partition }, 'planning failed');
      }
    });
  }

  /**
   * What the last look saw of the partitions planned up to their high watermark: while that
   * watermark stays, Kafka is asked nothing else of them (KnownOffsets, admin.ts), so an idle
   * pass costs one ListOffsets request per broker. Their log start offset as last seen plans
   * the same as a fresh one: it is at most the watermark, so retention cannot pass what is
   * planned. Partitions with anything unplanned are asked in full.
   */
  #known(active: RegisteredTopic[]): KnownOffsets {
    const known = new Map<string, Map<number, PartitionOffsets>>();
    for (const t of active) {
      const quiet = new Map<number, PartitionOffsets>();
      for (const e of this.#cache.partitions(t.record.topic)) {
        const s = e.seen;
        if (!s || this.#cache.planned(e) < s.latest) continue;
        quiet.set(e.partition, s);
      }
      if (quiet.size > 0) known.set(t.record.topic, quiet);
    }
    return known;
  }

  /** A topic's partitions that may have something to plan, after its new partitions got their nodes. */
  async #topicWork(t: RegisteredTopic, kafka: TopicOffsets, log: Logger): Promise<PartitionWork[]> {
    const rec = t.record;
    if (kafka.error) {
      log.warn({ err: kafka.error }, 'kafka offsets failed');
      return [];
    }
    const meta = kafka.metadata;
    if (!meta || meta.topicId !== rec.topicId) {
      await this.#stop(t, meta, log);
      return [];
    }
    const offsets = kafka.offsets ?? [];
    const byPartition = new Map(offsets.map((o) => [o.partition, o]));
    await this.#ensurePartitions(rec, meta.partitions, byPartition, log);
    const out: PartitionWork[] = [];
    for (const entry of this.#cache.partitions(rec.topic)) {
      const o = byPartition.get(entry.partition);
      if (o && !this.#unchanged(entry, o)) out.push({ rec, entry, o, log });
    }
    return out;
  }

  /**
   * True when planning `entry` again could do nothing new: Kafka's offsets and the committed
   * offset are what the last look saw, and everything up to the last stable offset is
   * planned (so neither a full range nor a flush can be due, nor a retention gap).
   */
  #unchanged(entry: PartitionEntry, o: PartitionOffsets): boolean {
    const seen = entry.seen;
    const committed = entry.state.committedOffset;
    const same =
      seen !== undefined &&
      seen.earliest === o.earliest &&
      seen.latest === o.latest &&
      seen.lastStable === o.lastStable &&
      seen.committed === committed;
    if (!same) {
      entry.seen = {
        partition: entry.partition,
        earliest: o.earliest,
        latest: o.latest,
        lastStable: o.lastStable,
        committed,
      };
    }
    return same && this.#cache.planned(entry) >= o.lastStable;
  }

  /** Topic gone from Kafka or re-created: stopped with a message that says what to do. */
  async #stop(t: RegisteredTopic, meta: TopicMetadata | null, log: Logger): Promise<void> {
    const rec = t.record;
    const err = meta
      ? new SluiceError(
          ErrorCodes.TOPIC_RECREATED,
          `topic "${rec.topic}" was deleted and re-created in Kafka: its topic id was ${rec.topicId} when registered and is now ${meta.topicId}. Its offsets start again, and planning them would overwrite the objects of the old topic, so Sluice stopped it. To copy the new topic, delete it from Sluice (DELETE /api/v1/topics/${rec.topic}) and register it again, preferably with a new destination prefix`,
          { details: { oldTopicId: rec.topicId, newTopicId: meta.topicId } },
        )
      : new SluiceError(
          ErrorCodes.TOPIC_NOT_IN_KAFKA,
          `topic "${rec.topic}" (topic id ${rec.topicId}) no longer exists in Kafka, so Sluice stopped it. If it was deleted on purpose, delete it from Sluice too (DELETE /api/v1/topics/${rec.topic}); if it is re-created, delete it from Sluice and register it again`,
          { details: { oldTopicId: rec.topicId } },
        );
    const next: TopicRecord = {
      ...rec,
      state: 'stopped',
      error: errorText(err),
      updatedAt: new Date().toISOString(),
    };
    try {
      await this.#writer.multi([
        { op: 'set', path: topicPath(rec.topic), data: encodeJson(next), version: t.version },
      ]);
    } catch (e) {
      if (isSluiceError(e, ErrorCodes.NOT_LEADER)) throw e;
      log.warn({ err: e }, 'could not mark topic stopped; will retry');
      return;
    }
    log.error(
      { err, code: err.code, oldTopicId: rec.topicId, newTopicId: meta?.topicId ?? null },
      'topic stopped',
    );
  }

  /**
   * Creates state nodes for partitions seen for the first time, all in one fenced multi. At
   * registration (no partition known yet) they start where the registration decided: after
   * the commit records of an earlier registration (`starts`, topics/topic-resume.ts), else
   * where `startFrom` says; a partition added to the topic later starts at its log start, so
   * none of its records is skipped.
   */
  async #ensurePartitions(
    rec: TopicRecord,
    partitions: number[],
    offsets: Map<number, PartitionOffsets>,
    log: Logger,
  ): Promise<void> {
    const missing = partitions.filter((p) => !this.#cache.get(rec.topic, p) && offsets.has(p));
    if (missing.length === 0) return;
    const atRegistration = this.#cache.partitions(rec.topic).length === 0;
    const now = new Date().toISOString();
    const ops: ZkOp[] = [];
    if (!this.#cache.hasPartitionsNode(rec.topic)) {
      ops.push({ op: 'create', path: partitionsPath(rec.topic) });
    }
    const created: Array<{ partition: number; state: PartitionState; version: number }> = [];
    for (const p of missing) {
      const o = offsets.get(p)!;
      const start =
        expectedStartOffset(rec.startFrom, !atRegistration, o, fixedStartOf(rec, p)) ?? o.earliest;
      const state = newPartitionState(start, now);
      ops.push({ op: 'create', path: partitionPath(rec.topic, p), data: encodeJson(state) });
      created.push({ partition: p, state, version: 0 });
    }
    try {
      await this.#writer.multi(ops);
    } catch (err) {
      if (isNodeExists(err)) {
        // The cache is behind ZooKeeper (it should not be): read the topic again.
        await this.#cache.load(this.#writer.zk, rec.topic);
        return;
      }
      throw err;
    }
    this.#cache.addPartitions(rec.topic, created);
    log.info(
      { partitions: missing, startFrom: atRegistration ? rec.startFrom : 'earliest' },
      atRegistration ? 'partitions registered' : 'new partitions found',
    );
  }

  async #planPartition(rec: TopicRecord, entry: PartitionEntry, o: PartitionOffsets, log: Logger) {
    const nowMs = this.#now();
    const planned = this.#cache.planned(entry);
    this.#metrics?.partition(rec.topic, entry.partition, BigInt(entry.state.committedOffset), o.latest);
    entry.arrivals = noteArrival(entry.arrivals, o.lastStable, planned, nowMs);
    const spans = planRanges({
      planned,
      earliest: o.earliest,
      lastStable: o.lastStable,
      policy: rec,
      bytesPerOffset: entry.state.bytesPerOffset,
      arrivals: entry.arrivals,
      nowMs,
      inFlight: entry.ranges.length,
      maxInFlight: this.#maxInFlight,
    });
    if (spans.length === 0) return;

    const now = new Date(nowMs).toISOString();
    const output = outputSpecOf(rec);
    const origin = { topic: rec.topic, topicId: rec.topicId, partition: entry.partition, output };
    const line = topicLine(rec.topic, entry.partition);
    const records = await createRanges(this.#writer, line, origin, planned, spans, now);
    this.#cache.addRanges(entry, spans);
    entry.arrivals = noteArrival(entry.arrivals, o.lastStable, this.#cache.planned(entry), nowMs);
    for (const s of spans) {
      this.#metrics?.rangesPlanned.inc({ topic: rec.topic, reason: s.reason });
      const fields = { partition: entry.partition, start: s.start.toString(), end: s.end.toString() };
      if (s.reason === 'gap')
        log.warn({ ...fields, earliest: o.earliest.toString() }, 'planned a retention gap');
      else log.debug({ ...fields, reason: s.reason }, 'planned');
    }
    for (const r of records) await this.#enqueuer.enqueue(r);
  }

  /**
   * A deleting topic goes once nothing of it is in flight: its nodes, then the topic node. A
   * forced deletion (`forcedAt`) first abandons what is in flight (topic-abandon.ts).
   */
  async #removeIfDrained(t: RegisteredTopic, log: Logger): Promise<void> {
    const topic = t.record.topic;
    await this.#cache.load(this.#writer.zk, topic);
    if (this.#cache.inFlight(topic) > 0) {
      if (t.record.forcedAt === undefined) return;
      const parts = this.#cache.partitions(topic).map((p) => p.partition);
      await abandonRanges(this.#abandon, t.record, parts);
      await this.#cache.load(this.#writer.zk, topic);
      if (this.#cache.inFlight(topic) > 0) return;
    }
    const partitions = this.#cache.partitions(topic);
    for (let i = 0; i < partitions.length; i += REMOVE_BATCH) {
      await this.#writer.multi(
        partitions.slice(i, i + REMOVE_BATCH).map((p) => ({
          op: 'remove',
          path: partitionPath(topic, p.partition),
          version: p.version,
        })),
      );
    }
    // The topic's other children (finalizer, audit, verify results) go first; they are not
    // range or partition state, so they need no fence.
    for (const child of await this.#writer.zk.children(topicPath(topic))) {
      if (child !== 'partitions') await this.#writer.zk.removeRecursive(`${topicPath(topic)}/${child}`);
    }
    const last: ZkOp[] = [];
    if (this.#cache.hasPartitionsNode(topic))
      last.push({ op: 'remove', path: partitionsPath(topic), version: -1 });
    last.push({ op: 'remove', path: topicPath(topic), version: t.version });
    await this.#writer.multi(last);
    this.#cache.forget(topic);
    this.#metrics?.forgetTopic(
      topic,
      partitions.map((p) => p.partition),
    );
    log.info({ partitions: partitions.length }, 'topic removed');
  }
}
