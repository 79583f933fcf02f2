/**
 * The leader's planning interval as one object: the term's fenced writer over the watched
 * session (watched-zk.ts), the partition cache, the enqueuer, the tracker and the planning
 * loop, and `tick()` (read topics → commit → plan). The leader
 * term (leader-term.ts) runs it on its timer beside the supervisor; the leader-at-scale
 * benchmark (bench/lib/leader-zk.ts) runs the same object against the real ZooKeeper, so
 * what it measures is what the leader does.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { KafkaAdmin, Logger, SluiceError, ZkSession } from '@sluice/shared';
import { PartitionCache } from '../ranges/partition-cache.ts';
import { PlanningLoop, type RegisteredTopic, readTopics } from '../ranges/planning-loop.ts';
import { RangeEnqueuer, type RangeQueue } from '../ranges/range-enqueuer.ts';
import { Tracker } from '../ranges/tracker.ts';
import type { MasterMetrics } from '../status/metrics.ts';
import { FencedWriter } from './fenced-writer.ts';
import { WatchedZk } from './watched-zk.ts';

export interface LeaderPassesOptions {
  zk: ZkSession;
  epoch: number;
  /** The epoch is over (a fenced write was refused); see FencedWriter. */
  onFenced: (err: SluiceError) => void;
  kafka: KafkaAdmin;
  queue: RangeQueue;
  log: Logger;
  maxInFlightPerPartition: number;
  jobAttempts?: number;
  metrics?: MasterMetrics;
  s3?: S3Client;
  conditionalWrites?: boolean;
  /** Called after a partition's committed offset advanced (tracker.ts). */
  onCommitted?: (topic: string, partition: number) => void;
}

export class LeaderPasses {
  readonly cache = new PartitionCache();
  readonly enqueuer: RangeEnqueuer;
  /** Every leader write of the term goes through this writer, over the watched session. */
  readonly writer: FencedWriter;
  readonly #zk: WatchedZk;
  readonly #tracker: Tracker;
  readonly #planning: PlanningLoop;
  readonly #metrics: MasterMetrics | undefined;
  #topics: RegisteredTopic[] = [];
  #stopped = false;

  constructor(o: LeaderPassesOptions) {
    this.#zk = new WatchedZk(o.zk);
    this.writer = new FencedWriter(this.#zk, o.epoch, o.onFenced);
    this.#metrics = o.metrics;
    this.enqueuer = new RangeEnqueuer(o.queue, (t) => this.cache.inFlight(t), o.log, o.jobAttempts);
    this.#tracker = new Tracker({
      writer: this.writer,
      cache: this.cache,
      log: o.log,
      ...(o.metrics ? { metrics: o.metrics } : {}),
      ...(o.onCommitted ? { onCommitted: o.onCommitted } : {}),
    });
    this.#planning = new PlanningLoop({
      writer: this.writer,
      cache: this.cache,
      kafka: o.kafka,
      enqueuer: this.enqueuer,
      maxInFlightPerPartition: o.maxInFlightPerPartition,
      log: o.log,
      ...(o.metrics ? { metrics: o.metrics } : {}),
      ...(o.s3 ? { s3: o.s3 } : {}),
      conditionalWrites: o.conditionalWrites ?? false,
    });
  }

  /** The registered topics as the last pass read them. */
  get topics(): RegisteredTopic[] {
    return this.#topics;
  }

  /** Forgets the watched session's cached answers (the reconcile pass re-reads everything). */
  refresh(): void {
    this.#zk.refresh();
  }

  stop(): void {
    this.#stopped = true;
  }

  /** One planning interval: topics, then commits, then new ranges. */
  async tick(): Promise<void> {
    if (this.#stopped) return;
    // Timed whole: the alert on a pass slower than SLUICE_PLAN_INTERVAL_MS compares with this.
    const timed = this.#metrics?.passSeconds.startTimer();
    try {
      const topics = await readTopics(this.writer.zk);
      this.#topics = topics;
      this.#metrics?.topicSettings(topics.map((t) => t.record));
      await this.#planning.syncTopics(topics);
      await this.#tracker.pass();
      if (this.#stopped) return;
      await this.#planning.pass(topics);
    } finally {
      timed?.();
    }
  }
}
