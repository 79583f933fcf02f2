/**
 * Metrics of the integrity passes (audit, finalizer, replays), on the master's registry.
 * Made once per registry: a master leads many terms over its life, each term reuses them,
 * and a term that ends clears them (a standby reports nothing stale).
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export class IntegrityMetrics {
  readonly auditProblems: Gauge<'topic'>;
  readonly finalizedUntil: Gauge<'topic'>;
  readonly lateRecords: Counter<'topic'>;
  readonly replayLag: Gauge<'replay' | 'topic'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.auditProblems = new Gauge({
      name: 'sluice_audit_problems',
      help: "Problems the leader's continuous audit found in a topic's output (gaps, overlaps, missing or extra objects, bad commit records); 0 is good.",
      labelNames: ['topic'],
      registers,
    });
    this.finalizedUntil = new Gauge({
      name: 'sluice_finalized_until_seconds',
      help: 'End (Unix seconds) of the newest hour or day folder finalized with _SUCCESS.',
      labelNames: ['topic'],
      registers,
    });
    this.lateRecords = new Counter({
      name: 'sluice_late_records_total',
      help: 'Records written into a folder after it was finalized (late data), counted by this master while leader.',
      labelNames: ['topic'],
      registers,
    });
    this.replayLag = new Gauge({
      name: 'sluice_replay_remaining_offsets',
      help: 'Offsets of a running replay not yet in S3.',
      labelNames: ['replay', 'topic'],
      registers,
    });
  }

  /** The term ended: a standby shows no numbers of its own. */
  reset(): void {
    this.auditProblems.reset();
    this.finalizedUntil.reset();
    this.replayLag.reset();
  }
}

const byRegistry = new WeakMap<Registry, IntegrityMetrics>();

/** The integrity metrics of `registry`, made at the first call. */
export function integrityMetricsOf(registry: Registry): IntegrityMetrics {
  let m = byRegistry.get(registry);
  if (!m) {
    m = new IntegrityMetrics(registry);
    byRegistry.set(registry, m);
  }
  return m;
}
