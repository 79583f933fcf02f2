/**
 * The master's Prometheus metrics, on a registry of its own (several masters may run in one
 * process in tests). Partition gauges are set only by the leader; a master that is deposed
 * clears them, so a standby never reports stale numbers. Labels name registered topics only
 * (never ranges, workers or offsets), so a series count stays bounded by the topics; the
 * alerting rules in deploy/prometheus read these names.
 */
import { BUILD_INFO, buildInfoLabels, type RangeState, type TopicRecord } from '@sluice/shared';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

const RANGE_STATES: readonly RangeState[] = ['planned', 'active', 'done', 'failed'];

/**
 * How often the event-loop delay histogram behind `nodejs_eventloop_lag_*` samples. prom-client's
 * 10 ms default wakes the process 100 times a second: 0.5 % of a core on this 2-core box,
 * a quarter of an idle leader's CPU (bench/README.md, idle master). At 100 ms: 0.07 %, and a
 * stall of the loop still shows in the maximum and the percentiles.
 */
export const EVENT_LOOP_SAMPLE_MS = 100;

export class MasterMetrics {
  readonly registry: Registry;
  readonly committedOffset: Gauge<'topic' | 'partition'>;
  readonly highWatermark: Gauge<'topic' | 'partition'>;
  readonly lagRecords: Gauge<'topic' | 'partition'>;
  readonly lagSeconds: Gauge<'topic' | 'partition'>;
  readonly committedRecords: Counter<'topic'>;
  readonly committedBytes: Counter<'topic'>;
  readonly errors: Counter<'kind'>;
  readonly ranges: Gauge<'topic' | 'state'>;
  readonly rangesPlanned: Counter<'topic' | 'reason'>;
  readonly requeues: Counter<'topic' | 'reason'>;
  readonly gapOffsets: Counter<'topic'>;
  readonly eventTimeFallbacks: Counter<'topic'>;
  readonly rejectedRecords: Counter<'topic'>;
  readonly isLeader: Gauge;
  /** One planning interval's pass of the leader (topics, commits, new ranges). */
  readonly passSeconds: Histogram;
  readonly passIntervalSeconds: Gauge;
  readonly flushIntervalSeconds: Gauge<'topic'>;
  readonly liveWorkers: Gauge;
  readonly buildInfo: Gauge<'version' | 'node'>;
  readonly groupMirrorFailures: Counter<'topic' | 'reason'>;
  readonly topicsFileApplies: Counter<'result'>;
  readonly topicsFileRefusals: Gauge;
  /** Registrations the topic patterns' discovery made or tried (pattern-discovery.ts). */
  readonly patternRegistrations: Counter<'pattern' | 'result'>;

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    this.registry = new Registry();
    const registers = [this.registry];
    if (opts.defaultMetrics !== false)
      collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
    this.committedOffset = new Gauge({
      name: 'sluice_partition_committed_offset',
      help: 'First offset of the partition not yet in S3 (committed by the leader).',
      labelNames: ['topic', 'partition'],
      registers,
    });
    this.highWatermark = new Gauge({
      name: 'sluice_partition_high_watermark',
      help: "The partition's high watermark in Kafka, as last seen by the leader.",
      labelNames: ['topic', 'partition'],
      registers,
    });
    this.lagRecords = new Gauge({
      name: 'sluice_partition_lag_records',
      help: 'Offsets between the committed offset and the high watermark.',
      labelNames: ['topic', 'partition'],
      registers,
    });
    this.lagSeconds = new Gauge({
      name: 'sluice_partition_lag_seconds',
      help: 'Age of the oldest record not yet in S3 (its Kafka timestamp to now), 0 when nothing is behind; refreshed by the status view.',
      labelNames: ['topic', 'partition'],
      registers,
    });
    this.committedRecords = new Counter({
      name: 'sluice_committed_records_total',
      help: 'Records in ranges committed by this master while leader.',
      labelNames: ['topic'],
      registers,
    });
    this.committedBytes = new Counter({
      name: 'sluice_committed_bytes_total',
      help: 'Bytes stored in S3 by ranges committed by this master while leader.',
      labelNames: ['topic'],
      registers,
    });
    this.errors = new Counter({
      name: 'sluice_master_errors_total',
      help: 'Failed leader passes, by error code (SLUICE_ERR_…, or other).',
      labelNames: ['kind'],
      registers,
    });
    this.ranges = new Gauge({
      name: 'sluice_ranges',
      help: 'Ranges in flight by topic and state (planned, active, done, failed), as last read by the leader.',
      labelNames: ['topic', 'state'],
      registers,
    });
    this.rangesPlanned = new Counter({
      name: 'sluice_ranges_planned_total',
      help: 'Ranges planned by this master while leader, by reason (full, flush, gap).',
      labelNames: ['topic', 'reason'],
      registers,
    });
    this.requeues = new Counter({
      name: 'sluice_requeues_total',
      help: 'Range requeues by topic and reason (worker-lost, stalled, failed, worker-fault, operator, queue-lost, destination-changed).',
      labelNames: ['topic', 'reason'],
      registers,
    });
    this.gapOffsets = new Counter({
      name: 'sluice_gaps_offsets_total',
      help: 'Offsets lost to retention before Sluice could read them, in ranges committed by this master.',
      labelNames: ['topic'],
      registers,
    });
    this.eventTimeFallbacks = new Counter({
      name: 'sluice_event_time_fallbacks_total',
      help: 'Records bucketed by Kafka time because their event-time field was missing or did not parse in the topic’s unit, in ranges committed by this master.',
      labelNames: ['topic'],
      registers,
    });
    this.rejectedRecords = new Counter({
      name: 'sluice_rejected_records_total',
      help: 'Records the output format could not take (a Parquet value that does not fit the topic’s schema), written to rejected-records objects, in ranges committed by this master.',
      labelNames: ['topic'],
      registers,
    });
    this.isLeader = new Gauge({
      name: 'sluice_is_leader',
      help: '1 while this master is the leader, else 0.',
      registers,
    });
    this.isLeader.set(0);
    this.passSeconds = new Histogram({
      name: 'sluice_leader_pass_duration_seconds',
      help: "Duration of the leader's planning pass (registered topics, commits, new ranges), run every SLUICE_PLAN_INTERVAL_MS.",
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    });
    this.passIntervalSeconds = new Gauge({
      name: 'sluice_leader_pass_interval_seconds',
      help: "The leader's planning interval (SLUICE_PLAN_INTERVAL_MS) in seconds; a pass that takes longer falls behind.",
      registers,
    });
    this.flushIntervalSeconds = new Gauge({
      name: 'sluice_topic_flush_interval_seconds',
      help: 'flushIntervalMs of each active, unpaused topic in seconds: a lag in time well beyond it means the topic is behind.',
      labelNames: ['topic'],
      registers,
    });
    this.liveWorkers = new Gauge({
      name: 'sluice_live_workers',
      help: 'Workers registered in ZooKeeper, as last read by the leader.',
      registers,
    });
    this.groupMirrorFailures = new Counter({
      name: 'sluice_group_mirror_failures_total',
      help: "Rounds that did not mirror a topic's committed offsets into its consumer group, by reason (failed: Kafka refused or did not answer; group-active: someone consumes with the group; group-ahead: the group is beyond Sluice).",
      labelNames: ['topic', 'reason'],
      registers,
    });
    this.topicsFileApplies = new Counter({
      name: 'sluice_topics_file_applies_total',
      help: 'New contents of SLUICE_TOPICS_FILE the leader read, by result (applied, partly-refused, invalid: nothing changed, unreadable: nothing changed).',
      labelNames: ['result'],
      registers,
    });
    this.topicsFileRefusals = new Gauge({
      name: 'sluice_topics_file_refused_topics',
      help: 'Topics of SLUICE_TOPICS_FILE whose change the leader could not apply (tried again every 30 s, or SLUICE_TOPICS_FILE_INTERVAL_MS when longer; the reasons are in GET /api/v1/status).',
      registers,
    });
    this.patternRegistrations = new Counter({
      name: 'sluice_pattern_registrations_total',
      help: 'Topics a topic pattern registered (result registered), or whose registration failed and is tried again next pass (result refused).',
      labelNames: ['pattern', 'result'],
      registers,
    });
    this.buildInfo = new Gauge({ ...BUILD_INFO, labelNames: [...BUILD_INFO.labelNames], registers });
    this.buildInfo.set(buildInfoLabels(), 1);
  }

  /**
   * Ranges in flight per topic and state: every registered topic gets all four states (0 when
   * none), and a topic no longer registered loses its series.
   */
  rangeStates(topics: readonly string[], states: Iterable<{ topic: string; state: RangeState }>): void {
    const counts = new Map<string, Record<RangeState, number>>();
    for (const topic of topics) counts.set(topic, { planned: 0, active: 0, done: 0, failed: 0 });
    for (const r of states) {
      let c = counts.get(r.topic);
      if (!c) {
        c = { planned: 0, active: 0, done: 0, failed: 0 };
        counts.set(r.topic, c);
      }
      c[r.state]++;
    }
    this.ranges.reset();
    for (const [topic, c] of counts)
      for (const state of RANGE_STATES) this.ranges.set({ topic, state }, c[state]);
  }

  /**
   * The flush interval of each topic that should be moving (active and not paused); others have
   * none. Each registered topic's gap counter starts at 0, so that its first gap is an increase
   * (`increase()` cannot see a series that is born above 0).
   */
  topicSettings(records: readonly TopicRecord[]): void {
    this.flushIntervalSeconds.reset();
    for (const r of records) {
      this.gapOffsets.inc({ topic: r.topic }, 0);
      if (r.state === 'active' && !r.paused)
        this.flushIntervalSeconds.set({ topic: r.topic }, r.flushIntervalMs / 1000);
    }
  }

  /** Sets the partition gauges; `highWatermark` only when known. */
  partition(topic: string, partition: number, committed: bigint, highWatermark?: bigint): void {
    const labels = { topic, partition: String(partition) };
    this.committedOffset.set(labels, Number(committed));
    if (highWatermark !== undefined) {
      this.highWatermark.set(labels, Number(highWatermark));
      this.lagRecords.set(labels, Number(highWatermark > committed ? highWatermark - committed : 0n));
    }
  }

  /** Sets the time lag gauge of a partition (seconds), or removes it when unknown. */
  partitionTimeLag(topic: string, partition: number, seconds: number | null): void {
    const labels = { topic, partition: String(partition) };
    if (seconds === null) this.lagSeconds.remove(labels);
    else this.lagSeconds.set(labels, seconds);
  }

  /** Forgets a topic's partitions (deleted topic). */
  forgetTopic(topic: string, partitions: number[]): void {
    for (const p of partitions) {
      const labels = { topic, partition: String(p) };
      this.committedOffset.remove(labels);
      this.highWatermark.remove(labels);
      this.lagRecords.remove(labels);
      this.lagSeconds.remove(labels);
    }
  }

  /** Leadership changed: a standby reports no partition numbers. */
  leader(leading: boolean): void {
    this.isLeader.set(leading ? 1 : 0);
    if (!leading) {
      this.committedOffset.reset();
      this.highWatermark.reset();
      this.lagRecords.reset();
      this.lagSeconds.reset();
      this.ranges.reset();
      this.passIntervalSeconds.reset();
      this.flushIntervalSeconds.reset();
      this.liveWorkers.reset();
      this.topicsFileRefusals.reset();
    }
  }
}
