/**
 * One leadership term: everything the leader runs between `elected` and `deposed`, with
 * caches built fresh from ZooKeeper. The passes run one at a time (never two at once), so
 * the planner, tracker and supervisor see one consistent cache:
 *
 *   every planIntervalMs           read topics → tracker (commit) → planning
 *   every sweep interval           supervisor: worker-lost, stalled, failed (and on a worker leaving)
 *   on a retry request             supervisor: operator retries
 *   every reconcileIntervalMs      supervisor: planned/active ranges without a job
 *   every upload-abort interval    supervisor: abandoned multipart uploads
 *
 * Beside them, outside that chain, the integrity passes (integrity-passes.ts): replays, the
 * hour finalizer and the continuous audit; and the group mirror (kafka/group-mirror.ts), which
 * the tracker tells of each commit.
 *
 * Before any of them, the term brings the ZooKeeper tree to this release's layout
 * (upgrade/layout-migration.ts); while it cannot, the leader runs no pass.
 *
 * A fenced write that finds the epoch over calls `onFenced`; the owner then stops the term.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import {
  ErrorCodes,
  isSluiceError,
  type KafkaAdmin,
  type Logger,
  type MasterConfig,
  type MirrorGroupSettings,
  type SluiceError,
  type ZkSession,
} from '@sluice/shared';
import { type IntegrityConfig, IntegrityPasses } from '../integrity/integrity-passes.ts';
import { GroupMirror, type GroupMirrorKafka, type MirrorReports } from '../kafka/group-mirror.ts';
import type { RangeQueue } from '../ranges/range-enqueuer.ts';
import { Supervisor } from '../ranges/supervisor.ts';
import type { MasterMetrics } from '../status/metrics.ts';
import { migrateLayout } from '../upgrade/layout-migration.ts';
import type { FencedWriter } from './fenced-writer.ts';
import { LeaderPasses } from './leader-passes.ts';

export interface LeaderTermOptions {
  zk: ZkSession;
  epoch: number;
  config: Pick<
    MasterConfig,
    | 'planIntervalMs'
    | 'stallTimeoutMs'
    | 'maxInFlightPerPartition'
    | 'reconcileIntervalMs'
    | 'abandonedUploadAgeMs'
  > &
    IntegrityConfig;
  kafka: KafkaAdmin;
  queue: RangeQueue;
  s3?: S3Client;
  log: Logger;
  metrics?: MasterMetrics;
  /** The epoch is over (a fenced write was refused). Called once. */
  onFenced: (err: SluiceError) => void;
  /** Mirroring committed offsets into consumer groups; absent: off (SLUICE_MIRROR_GROUP_OFFSETS=false). */
  groupMirror?: {
    /** Makes the Kafka client of one term (closed when the term stops). */
    kafka: () => GroupMirrorKafka;
    kafkaBrokers: readonly string[];
    settings: MirrorGroupSettings;
    reports: MirrorReports;
  };
}

/** How often the supervisor sweeps: a quarter of the stall timeout, 5 s at most, never faster than planning. */
export function sweepIntervalMs(cfg: { planIntervalMs: number; stallTimeoutMs: number }): number {
  return Math.max(cfg.planIntervalMs, Math.min(5_000, Math.floor(cfg.stallTimeoutMs / 4)));
}

/** How often abandoned uploads are looked for: half their age limit, between 5 s and 15 min. */
export function uploadAbortIntervalMs(abandonedUploadAgeMs: number): number {
  return Math.min(15 * 60_000, Math.max(5_000, Math.floor(abandonedUploadAgeMs / 2)));
}

export class LeaderTerm {
  readonly #o: LeaderTermOptions;
  readonly #log: Logger;
  readonly #writer: FencedWriter;
  readonly #passes: LeaderPasses;
  readonly #supervisor: Supervisor;
  readonly #integrity: IntegrityPasses;
  readonly #mirror: GroupMirror | null;
  readonly #timers = new Set<NodeJS.Timeout>();
  #chain: Promise<unknown> = Promise.resolve();
  #stopped = false;

  constructor(opts: LeaderTermOptions) {
    this.#o = opts;
    this.#log = opts.log.child({ epoch: opts.epoch });
    const gm = opts.groupMirror;
    // The mirror reads the passes' cache and topics, which exist once the passes do.
    let passes: LeaderPasses | null = null;
    this.#mirror = gm
      ? new GroupMirror({
          kafka: gm.kafka(),
          kafkaBrokers: gm.kafkaBrokers,
          settings: gm.settings,
          reports: gm.reports,
          topics: () => (passes?.topics ?? []).map((t) => t.record),
          committed: (topic) =>
            new Map(
              (passes?.cache.partitions(topic) ?? []).map((e) => [
                e.partition,
                BigInt(e.state.committedOffset),
              ]),
            ),
          log: this.#log,
          ...(opts.metrics ? { failures: opts.metrics.groupMirrorFailures } : {}),
        })
      : null;
    const mirror = this.#mirror;
    passes = new LeaderPasses({
      zk: opts.zk,
      epoch: opts.epoch,
      onFenced: (err) => {
        if (!this.#stopped) opts.onFenced(err);
      },
      kafka: opts.kafka,
      queue: opts.queue,
      log: this.#log,
      maxInFlightPerPartition: opts.config.maxInFlightPerPartition,
      ...(opts.config.jobAttempts !== undefined ? { jobAttempts: opts.config.jobAttempts } : {}),
      ...(opts.metrics ? { metrics: opts.metrics } : {}),
      ...(opts.s3 ? { s3: opts.s3 } : {}),
      conditionalWrites: opts.config.s3.conditionalWrites,
      ...(mirror ? { onCommitted: (topic: string) => mirror.note(topic) } : {}),
    });
    this.#passes = passes;
    this.#writer = passes.writer;
    this.#supervisor = new Supervisor({
      writer: this.#writer,
      cache: passes.cache,
      queue: opts.queue,
      enqueuer: passes.enqueuer,
      stallTimeoutMs: opts.config.stallTimeoutMs,
      abandonedUploadAgeMs: opts.config.abandonedUploadAgeMs,
      log: this.#log,
      metrics: opts.metrics,
      s3: opts.s3,
      topics: () => this.#passes.topics,
      exclusive: (fn) => this.#exclusive(fn),
    });
    this.#integrity = new IntegrityPasses({
      writer: this.#writer,
      kafka: opts.kafka,
      queue: opts.queue,
      ...(opts.s3 ? { s3: opts.s3 } : {}),
      log: this.#log,
      ...(opts.metrics ? { registry: opts.metrics.registry } : {}),
      config: opts.config,
      topics: () => this.#passes.topics.map((t) => t.record),
      partitionStates: (topic) => {
        const cache = this.#passes.cache;
        return cache.has(topic) ? new Map(cache.partitions(topic).map((e) => [e.partition, e.state])) : null;
      },
    });
  }

  get epoch(): number {
    return this.#o.epoch;
  }

  async start(): Promise<void> {
    const cfg = this.#o.config;
    this.#log.info('leader term starting');
    this.#o.metrics?.passIntervalSeconds.set(cfg.planIntervalMs / 1000);
    if (!(await this.#migrateLayout())) return;
    try {
      await this.#exclusive(() => this.tick());
      await this.#supervisor.start();
    } catch (err) {
      // The passes below retry; a fenced write already told the owner.
      this.#report(err);
    }
    this.#every(cfg.planIntervalMs, () => this.tick());
    this.#every(sweepIntervalMs(cfg), () => this.#supervisor.sweep());
    this.#every(cfg.reconcileIntervalMs, () => {
      // A full re-read from ZooKeeper now and then, as a belt over the watches (watched-zk.ts).
      this.#passes.refresh();
      return this.#supervisor.reconcile();
    });
    this.#every(uploadAbortIntervalMs(cfg.abandonedUploadAgeMs), () =>
      this.#supervisor.abortAbandonedUploads(),
    );
    if (!this.#stopped) this.#integrity.start();
    if (!this.#stopped) this.#mirror?.start();
  }

  /** Stops every pass; resolves when the one running (if any) has ended. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#passes.stop();
    this.#supervisor.stop();
    await Promise.all([this.#chain.catch(() => undefined), this.#integrity.stop(), this.#mirror?.stop()]);
    this.#log.info('leader term stopped');
  }

  /** One planning interval: topics, then commits, then new ranges (leader-passes.ts). */
  async tick(): Promise<void> {
    if (this.#stopped) return;
    await this.#passes.tick();
  }

  /** For tests: replays, finalizer and audit passes. */
  get integrity(): IntegrityPasses {
    return this.#integrity;
  }

  /** For tests: one sweep, one reconcile, one retry pass. */
  get supervisor(): Supervisor {
    return this.#supervisor;
  }

  /**
   * Upgrade in place: runs the layout migration until it succeeds, so that no pass reads a tree
   * it does not know. False when the term ended first (stopped, or the epoch is over).
   */
  async #migrateLayout(): Promise<boolean> {
    while (!this.#stopped) {
      try {
        await this.#exclusive(() => migrateLayout(this.#writer, this.#log));
        return !this.#stopped;
      } catch (err) {
        if (isSluiceError(err, ErrorCodes.NOT_LEADER) || isSluiceError(err, ErrorCodes.ZK_SESSION_LOST))
          return false;
        this.#o.metrics?.errors.inc({ kind: isSluiceError(err) ? err.code : 'other' });
        this.#log.error(
          { err },
          "cannot bring the ZooKeeper tree to this release's layout; this leader runs no pass until it can",
        );
        // Not one of the term's timers: stop() must not leave this loop waiting for good.
        await new Promise((r) => setTimeout(r, Math.max(1_000, this.#o.config.planIntervalMs)).unref());
      }
    }
    return false;
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(() => (this.#stopped ? (undefined as T) : fn()));
    this.#chain = run.catch(() => undefined);
    return run;
  }

  /** Runs `fn` every `ms` after the previous run ended (runs never overlap or pile up). */
  #every(ms: number, fn: () => Promise<unknown>): void {
    const schedule = () => {
      if (this.#stopped) return;
      const timer = setTimeout(async () => {
        this.#timers.delete(timer);
        try {
          await this.#exclusive(fn);
        } catch (err) {
          this.#report(err);
        }
        schedule();
      }, ms);
      this.#timers.add(timer);
    };
    schedule();
  }

  #report(err: unknown): void {
    if (this.#stopped) return;
    if (isSluiceError(err, ErrorCodes.NOT_LEADER) || isSluiceError(err, ErrorCodes.ZK_SESSION_LOST)) return;
    this.#o.metrics?.errors.inc({ kind: isSluiceError(err) ? err.code : 'other' });
    this.#log.warn({ err }, 'leader pass failed');
  }
}
