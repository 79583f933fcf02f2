/**
 * The worker's Prometheus metrics, in a registry of their own (so that several workers can
 * run in one process, as tests do), plus Node's default process metrics.
 */
import { BUILD_INFO, buildInfoLabels } from '@sluice/shared';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export class WorkerMetrics {
  readonly registry = new Registry();
  /**
   * Ranges finished, by topic and outcome: written, committed-earlier, already-done, stale,
   * gone, failed, worker-fault, aborted. Jobs exist only for registered topics, so the topic
   * label stays bounded by them.
   */
  readonly ranges: Counter<'topic' | 'outcome'>;
  readonly records: Counter;
  /** `raw`: encoded bytes before compression; `stored`: bytes stored in S3. */
  readonly bytes: Counter<'kind'>;
  readonly uploadSeconds: Histogram;
  readonly fetchSeconds: Histogram;
  readonly gaps: Counter;
  /** Errors by code (`SLUICE_ERR_…`, or `other`). */
  readonly errors: Counter<'kind'>;
  /** SLUICE_VERIFY_ON_RETRY differences, by cause: `retention` (Kafka deleted or compacted since) or `nondeterministic`. */
  readonly verifyMismatches: Counter<'cause'>;
  readonly activeRanges: Gauge;
  readonly buildInfo: Gauge<'version' | 'node'>;

  constructor() {
    const registers = [this.registry];
    this.ranges = new Counter({
      name: 'sluice_worker_ranges_total',
      help: 'Range jobs finished, by topic and outcome',
      labelNames: ['topic', 'outcome'],
      registers,
    });
    this.records = new Counter({
      name: 'sluice_worker_records_total',
      help: 'Records written to S3',
      registers,
    });
    this.bytes = new Counter({
      name: 'sluice_worker_bytes_total',
      help: 'Bytes written: raw (encoded, before compression) and stored (in S3)',
      labelNames: ['kind'],
      registers,
    });
    this.uploadSeconds = new Histogram({
      name: 'sluice_worker_upload_seconds',
      help: 'Time from opening an object to having it stored',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    });
    this.fetchSeconds = new Histogram({
      name: 'sluice_worker_fetch_seconds',
      help: 'Time waiting for one batch from Kafka',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.gaps = new Counter({
      name: 'sluice_worker_gaps_total',
      help: 'Offset gaps met (records deleted by retention before they were read)',
      registers,
    });
    this.errors = new Counter({
      name: 'sluice_worker_errors_total',
      help: 'Range job errors, by code',
      labelNames: ['kind'],
      registers,
    });
    this.verifyMismatches = new Counter({
      name: 'sluice_worker_verify_mismatches_total',
      help: 'Completed ranges whose re-read (SLUICE_VERIFY_ON_RETRY) differs from their commit record, by cause (retention: Kafka deleted or compacted records since; nondeterministic: same records, other output)',
      labelNames: ['cause'],
      registers,
    });
    this.activeRanges = new Gauge({
      name: 'sluice_worker_active_ranges',
      help: 'Ranges being worked on now',
      registers,
    });
    this.buildInfo = new Gauge({ ...BUILD_INFO, labelNames: [...BUILD_INFO.labelNames], registers });
    this.buildInfo.set(buildInfoLabels(), 1);
    // prom-client samples the event-loop delay every 10 ms by default: 100 wakeups a second,
    // about 0.5 % of a core, more than the rest of an idle worker (the master's EVENT_LOOP_SAMPLE_MS).
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 100 });
  }
}
