/**
 * The hour finalizer (leader only): writes `_SUCCESS` into each hour (or day) folder of a
 * time-partitioned topic once the folder is complete, exactly once, never before
 * (finalizer.ts has the rules and the late-data policy). Every `finalizeIntervalMs`, per topic:
 *
 *  1. its state (`/sluice/topics/{t}/finalizer`), the partition states (the leader's own copy,
 *     else ZooKeeper's), then Kafka's offsets:
 *     in this order, so that every range committed when the watermark is computed has its
 *     commit record in S3 by the time they are listed (a worker writes the record first);
 *  2. the commit records written since the cursor, counted into open folders or as late data;
 *  3. late data: the finalized folders' markers rewritten (unconditionally) with the counts;
 *  4. due folders: `_SUCCESS` written with `If-None-Match: *` (a marker that exists stays:
 *     after a leader change the same folder may come due again);
 *  5. the state, in one fenced write.
 *
 * A crash between 4 and 5 repeats 2-4 from the old cursor: markers exist (kept), late data is
 * named in the marker (not counted twice). Hive or Glue partition registration is not done.
 *
 * Step 2 costs S3 requests only for what changed: a partition whose committed offset and
 * cursor are what they were after a pass that listed it to the end and saved its state is not
 * listed again (no record below the committed offset can appear behind the cursor, see
 * committedCommitKeys), and a topic no record was ever counted for is listed once at its
 * commits folder rather than once per partition. An idle topic of 100 partitions cost 100
 * ListObjectsV2 a minute (bench/README.md, idle master).
 */
import {
  commitsFolder,
  DEFAULT_FINALIZE_LATENESS_MS,
  decodeJson,
  ErrorCodes,
  encodeJson,
  errorText,
  finalizerPath,
  isBadVersion,
  isNodeExists,
  isNoNode,
  isSluiceError,
  type KafkaAdmin,
  keyLayoutOf,
  type ListedKey,
  type Logger,
  type PartitionState,
  partitionPath,
  partitionsPath,
  successMarkerKey,
  type TopicRecord,
  timeFolder,
  topicRoot,
  type ZkOp,
} from '@sluice/shared';
import type { FencedWriter } from '../leadership/fenced-writer.ts';
import type { OutputStore } from '../stores/output-store.ts';
import {
  absorb,
  afterFinalizing,
  type CommitObjects,
  committedCommitKeys,
  dueUnits,
  emptyState,
  type FinalizerState,
  type PartitionProgress,
  type SuccessMarker,
  successMarker,
  unitMs,
  watermark,
  withLate,
} from './finalizer.ts';
import type { IntegrityMetrics } from './integrity-metrics.ts';

/** Commit records read per partition in one pass; when a partition has more, nothing is finalized until it caught up. */
const COMMITS_PER_PASS = 1_000;

export interface FinalizerLoopOptions {
  writer: FencedWriter;
  store: OutputStore;
  kafka: KafkaAdmin;
  log: Logger;
  metrics?: IntegrityMetrics;
  now?: () => number;
  /** The partition states the leader holds (integrity-passes.ts); absent or null: read from ZooKeeper. */
  partitionStates?: (topic: string) => Map<number, PartitionState> | null;
}

export interface FinalizeResult {
  state: FinalizerState;
  /** Folders finalized in this pass. */
  finalized: string[];
  /** Late records found in this pass. */
  lateRecords: number;
}

/**
 * What the last saved pass knew of a topic's partitions, for one topic registration, folder and
 * granularity (`identity`): per partition, the committed offset its listing reached the end at
 * and the cursor it saved.
 */
interface Listed {
  identity: string;
  partitions: Map<number, { committed: string; cursor: string | undefined }>;
}

export class FinalizerLoop {
  readonly #o: FinalizerLoopOptions;
  readonly #now: () => number;
  /** By topic; in memory for one leadership term (a new leader lists every partition once). */
  readonly #listed = new Map<string, Listed>();

  constructor(opts: FinalizerLoopOptions) {
    this.#o = opts;
    this.#now = opts.now ?? Date.now;
  }

  async pass(topics: readonly TopicRecord[], stopped: () => boolean = () => false): Promise<void> {
    for (const t of topics) {
      if (stopped()) return;
      if (t.partitionBy.kind === 'none' || t.state !== 'active') continue;
      try {
        await this.finalizeTopic(t);
      } catch (err) {
        if (isSluiceError(err, ErrorCodes.NOT_LEADER)) throw err;
        this.#o.log.warn({ topic: t.topic, err: errorText(err) }, 'finalizer pass failed');
      }
    }
  }

  /** One topic; null when it is not time-partitioned or Kafka could not be asked. */
  async finalizeTopic(t: TopicRecord): Promise<FinalizeResult | null> {
    if (t.partitionBy.kind === 'none') return null;
    const g = t.partitionBy.granularity;
    // Markers go into time folders of the current template's style (folders of ranges planned
    // under an older template count toward the same hour, see absorb).
    const style = keyLayoutOf(t).time;
    const zk = this.#o.writer.zk;
    const log = this.#o.log.child({ topic: t.topic });
    const { bucket, prefix } = t.destination;
    const root = topicRoot(prefix, t.topic);
    const nowMs = this.#now();
    const nowIso = new Date(nowMs).toISOString();

    // 1. State, partition states, Kafka.
    const path = finalizerPath(t.topic);
    const node = await zk.get(path);
    let state = node && node.data.length > 0 ? decodeJson<FinalizerState>(node.data, path) : null;
    if (!state || state.root !== root || state.granularity !== g) state = emptyState(root, g, nowIso);
    // The leader's own copy when it has one: 100 partitions were 100 ZooKeeper reads a minute.
    const states = this.#o.partitionStates?.(t.topic) ?? (await readPartitionStates(zk, t.topic));
    const meta = (await this.#o.kafka.topicMetadata([t.topic])).get(t.topic);
    if (!meta || meta.topicId !== t.topicId) return null;
    const offsets = await this.#o.kafka.offsets(t.topic, meta.partitions);
    const progress: PartitionProgress[] = [];
    let known = true;
    for (const o of offsets) {
      const s = states.get(o.partition);
      if (!s) {
        known = false;
        continue;
      }
      progress.push({
        partition: o.partition,
        committedMaxTimestamp: s.committedMaxTimestamp,
        idle: BigInt(s.committedOffset) >= o.lastStable,
      });
    }

    // 2. New commit records.
    const cursor = { ...state.cursor };
    const commits: CommitObjects[] = [];
    let caughtUp = true;
    const identity = `${t.createdAt}|${root}|${g}`;
    const before = this.#listed.get(t.topic);
    const remembered: Listed['partitions'] = before?.identity === identity ? before.partitions : new Map();
    const toList = [...states.keys()]
      .sort((a, b) => a - b)
      .filter((p) => {
        const r = remembered.get(p);
        return !(r && r.committed === states.get(p)!.committedOffset && r.cursor === cursor[String(p)]);
      });
    const listings = await this.#listings(bucket, prefix, t.topic, toList, cursor);
    /** Partitions listed to their end in this pass: committed offset and cursor, once saved. */
    const complete = new Map<number, string>();
    for (const p of toList) {
      const listed = listings.get(p) ?? [];
      if (listed.length === COMMITS_PER_PASS) caughtUp = false;
      else complete.set(p, states.get(p)!.committedOffset);
      // Only records below the committed offset read at step 1 (see committedCommitKeys).
      const keys = committedCommitKeys(
        listed.map((k) => k.key),
        BigInt(states.get(p)!.committedOffset),
      );
      if (keys.length === 0) continue;
      for (const c of await this.#o.store.commits(bucket, keys)) {
        if (!c.record) {
          log.warn({ key: c.key, err: c.error }, 'commit record unreadable; not counted');
          continue;
        }
        commits.push({ key: c.key, objects: Array.isArray(c.record.objects) ? c.record.objects : [] });
      }
      cursor[String(p)] = keys[keys.length - 1]!;
    }
    const absorbed = absorb(state, commits);
    state = { ...absorbed.state, cursor, updatedAt: nowIso };

    // 3. Late data into finalized folders.
    let lateRecords = 0;
    for (const late of absorbed.late) {
      lateRecords += late.records;
      const folder = timeFolder(g, late.unit, style);
      const key = successMarkerKey(prefix, t.topic, folder);
      const text = await this.#o.store.text(bucket, key);
      if (text === null) continue; // a folder from before the finalizer knew it: counted, no marker
      let m: SuccessMarker;
      try {
        m = JSON.parse(text) as SuccessMarker;
      } catch {
        log.warn({ key }, 'marker is not JSON; left alone');
        continue;
      }
      const next = withLate(m, late, nowIso);
      if (next) await this.#o.store.putJson(bucket, key, next, 'replace');
      log.warn(
        { folder, records: late.records, objects: late.objects, commit: late.commit },
        'late data in a finalized folder',
      );
    }

    // 4. Due folders.
    const finalized: number[] = [];
    const latenessMs = t.finalizeLatenessMs ?? DEFAULT_FINALIZE_LATENESS_MS;
    const w = known && caughtUp ? watermark(progress, nowMs, latenessMs) : null;
    let failure: unknown = null;
    for (const unit of dueUnits(state, w, Date.parse(t.createdAt))) {
      const folder = timeFolder(g, unit, style);
      const counts = state.pending[String(unit)] ?? { objects: 0, records: 0 };
      try {
        const created = await this.#o.store.putJson(
          bucket,
          successMarkerKey(prefix, t.topic, folder),
          successMarker(t.topic, g, unit, counts, nowIso, style),
          'create',
        );
        log.info({ folder, ...counts, created }, 'folder finalized');
      } catch (err) {
        failure = err;
        break;
      }
      finalized.push(unit);
    }
    state = afterFinalizing(state, finalized, nowIso);

    // 5. The state.
    const ops: ZkOp[] = node
      ? [{ op: 'set', path, data: encodeJson(state), version: node.version }]
      : [{ op: 'create', path, data: encodeJson(state) }];
    try {
      await this.#o.writer.multi(ops);
    } catch (err) {
      if (isNoNode(err) || isNodeExists(err) || isBadVersion(err)) return null;
      throw err;
    }
    // Saved: what was listed to its end need not be listed again while it stays as it is.
    const partitions = new Map(remembered);
    for (const p of toList) {
      const committed = complete.get(p);
      if (committed === undefined) partitions.delete(p);
      else partitions.set(p, { committed, cursor: cursor[String(p)] });
    }
    this.#listed.set(t.topic, { identity, partitions });
    if (lateRecords > 0) this.#o.metrics?.lateRecords.inc({ topic: t.topic }, lateRecords);
    if (state.newestFinalized !== null) {
      this.#o.metrics?.finalizedUntil.set({ topic: t.topic }, (state.newestFinalized + unitMs(g)) / 1000);
    }
    if (failure) throw failure;
    return { state, finalized: finalized.map((u) => timeFolder(g, u, style)), lateRecords };
  }

  /**
   * The commit records after each partition's cursor, at most COMMITS_PER_PASS each, in key
   * order. When none of the topic's partitions has a cursor yet (its first pass), one listing
   * of the commits folder serves them all if it ends within COMMITS_PER_PASS keys (a new
   * topic's is empty); else, and always once cursors exist, one listing per partition.
   */
  async #listings(
    bucket: string,
    prefix: string,
    topic: string,
    partitions: readonly number[],
    cursor: Readonly<Record<string, string>>,
  ): Promise<Map<number, ListedKey[]>> {
    const out = new Map<number, ListedKey[]>();
    if (partitions.length > 1 && Object.keys(cursor).length === 0) {
      const all = await this.#o.store.list(bucket, commitsFolder(prefix, topic), { limit: COMMITS_PER_PASS });
      if (all.length < COMMITS_PER_PASS) {
        for (const p of partitions) out.set(p, []);
        const folders = new Map(partitions.map((p) => [commitsFolder(prefix, topic, p), p]));
        for (const k of all) {
          const p = folders.get(k.key.slice(0, k.key.lastIndexOf('/') + 1));
          if (p !== undefined) out.get(p)!.push(k);
        }
        return out;
      }
    }
    for (const p of partitions) {
      const after = cursor[String(p)];
      out.set(
        p,
        await this.#o.store.list(bucket, commitsFolder(prefix, topic, p), {
          ...(after ? { startAfter: after } : {}),
          limit: COMMITS_PER_PASS,
        }),
      );
    }
    return out;
  }
}

/** A topic's partition states as ZooKeeper has them. */
async function readPartitionStates(
  zk: FencedWriter['zk'],
  topic: string,
): Promise<Map<number, PartitionState>> {
  const states = new Map<number, PartitionState>();
  for (const name of await zk.children(partitionsPath(topic))) {
    if (!/^\d{1,10}$/.test(name)) continue;
    const n = await zk.get(partitionPath(topic, Number(name)));
    if (n && n.data.length > 0)
      states.set(Number(name), decodeJson<PartitionState>(n.data, partitionPath(topic, Number(name))));
  }
  return states;
}
