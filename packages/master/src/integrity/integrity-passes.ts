/**
 * The leader's integrity passes, beside the planning/tracking/supervising chain of a
 * {@link LeaderTerm} and not inside it: they spend their time on S3, and must not hold up
 * planning. They write only nodes of their own (a replay's nodes, a topic's `audit` and
 * `finalizer`), fenced by the same epoch, so they need no exclusion from the other passes.
 *
 *   every planIntervalMs        replays: commit, supervise, plan (replay-runner.ts)
 *   every finalizeIntervalMs    hour finalizer (finalizer-loop.ts)      needs S3
 *   every auditIntervalMs       continuous audit (audit-loop.ts)        needs S3
 *
 * Each kind runs one pass at a time; the next starts an interval after the last ended.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import {
  ErrorCodes,
  errorText,
  isSluiceError,
  type KafkaAdmin,
  type Logger,
  type MasterConfig,
  type PartitionState,
  type TopicRecord,
} from '@sluice/shared';
import type { Registry } from 'prom-client';
import type { FencedWriter } from '../leadership/fenced-writer.ts';
import type { RangeQueue } from '../ranges/range-enqueuer.ts';
import { ReplayRunner } from '../replays/replay-runner.ts';
import { OutputStore } from '../stores/output-store.ts';
import { AuditLoop } from './audit-loop.ts';
import { FinalizerLoop } from './finalizer-loop.ts';
import { type IntegrityMetrics, integrityMetricsOf } from './integrity-metrics.ts';

/** Longest `stop()` waits for a pass in progress. */
const STOP_WAIT_MS = 10_000;

/** The loaded settings these passes use (their defaults are the settings table's, nowhere else). */
export type IntegrityConfig = Pick<
  MasterConfig,
  | 'planIntervalMs'
  | 'stallTimeoutMs'
  | 'maxInFlightPerPartition'
  | 'reconcileIntervalMs'
  | 'jobAttempts'
  | 'auditIntervalMs'
  | 'finalizeIntervalMs'
  | 's3'
>;

export interface IntegrityPassesOptions {
  writer: FencedWriter;
  kafka: KafkaAdmin;
  queue: RangeQueue;
  /** None: no audit and no finalizer (replays still run). */
  s3?: S3Client;
  log: Logger;
  /** The master's registry, for the integrity metrics. */
  registry?: Registry;
  config: IntegrityConfig;
  /** The registered topics as the leader last read them. */
  topics: () => TopicRecord[];
  /**
   * A topic's partition states as the leader holds them (its partition cache: only the leader
   * writes them, and only after ZooKeeper took the write), or null when it holds none yet;
   * the finalizer then reads them from ZooKeeper.
   */
  partitionStates?: (topic: string) => Map<number, PartitionState> | null;
}

export class IntegrityPasses {
  readonly #o: IntegrityPassesOptions;
  readonly #metrics: IntegrityMetrics | undefined;
  readonly #replays: ReplayRunner;
  readonly #finalizer: FinalizerLoop | null;
  readonly #audit: AuditLoop | null;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #running = new Set<Promise<unknown>>();
  #stopped = false;

  constructor(opts: IntegrityPassesOptions) {
    this.#o = opts;
    const log = opts.log;
    this.#metrics = opts.registry ? integrityMetricsOf(opts.registry) : undefined;
    const metrics = this.#metrics ? { metrics: this.#metrics } : {};
    this.#replays = new ReplayRunner({
      writer: opts.writer,
      queue: opts.queue,
      log,
      ...metrics,
      maxInFlightPerPartition: opts.config.maxInFlightPerPartition,
      stallTimeoutMs: opts.config.stallTimeoutMs,
      reconcileIntervalMs: opts.config.reconcileIntervalMs,
      jobAttempts: opts.config.jobAttempts,
    });
    const store = opts.s3
      ? new OutputStore(opts.s3, { conditionalWrites: opts.config.s3.conditionalWrites })
      : null;
    this.#finalizer = store
      ? new FinalizerLoop({
          writer: opts.writer,
          store,
          kafka: opts.kafka,
          log,
          ...metrics,
          ...(opts.partitionStates ? { partitionStates: opts.partitionStates } : {}),
        })
      : null;
    this.#audit = store ? new AuditLoop({ writer: opts.writer, store, log, ...metrics }) : null;
  }

  /** For tests. */
  get replays(): ReplayRunner {
    return this.#replays;
  }

  get finalizer(): FinalizerLoop | null {
    return this.#finalizer;
  }

  get audit(): AuditLoop | null {
    return this.#audit;
  }

  start(): void {
    const cfg = this.#o.config;
    const stopped = () => this.#stopped;
    this.#every('replays', cfg.planIntervalMs, () => this.#replays.pass(stopped));
    const finalizer = this.#finalizer;
    if (finalizer) {
      this.#every('finalizer', cfg.finalizeIntervalMs, () => finalizer.pass(this.#o.topics(), stopped));
    }
    const audit = this.#audit;
    if (audit) this.#every('audit', cfg.auditIntervalMs, () => audit.pass(this.#o.topics(), stopped));
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    // Passes stop between topics; one stuck on S3 is not waited for beyond a bound (its
    // writes are fenced, and idempotent against the next leader's).
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([...this.#running].map((p) => p.catch(() => undefined))),
      new Promise((resolve) => {
        timer = setTimeout(resolve, STOP_WAIT_MS);
      }),
    ]);
    clearTimeout(timer);
    this.#metrics?.reset();
  }

  #every(what: string, ms: number, fn: () => Promise<unknown>): void {
    const schedule = () => {
      if (this.#stopped) return;
      const timer = setTimeout(async () => {
        this.#timers.delete(timer);
        if (this.#stopped) return;
        const run = fn();
        this.#running.add(run);
        try {
          await run;
        } catch (err) {
          if (!isSluiceError(err, ErrorCodes.NOT_LEADER) && !isSluiceError(err, ErrorCodes.ZK_SESSION_LOST)) {
            this.#o.log.warn({ err: errorText(err), pass: what }, 'integrity pass failed');
          }
        } finally {
          this.#running.delete(run);
        }
        schedule();
      }, ms);
      this.#timers.add(timer);
    };
    schedule();
  }
}
