/**
 * Pure: throughput from committed totals sampled over time. ZooKeeper keeps, per partition,
 * the records and bytes of committed ranges (`PartitionState.committedRecords/Bytes`); the
 * master samples their per-topic sums every few seconds and keeps the samples in memory, so
 * any master (leader or standby) can answer "records/s and bytes/s over 1 and 15 minutes"
 * without anything more stored anywhere.
 *
 * Totals only grow while a topic lives. A topic that shrinks (deleted and registered again)
 * starts a new series; the total over all topics is kept as a sum of per-topic increases, so
 * a topic that goes away does not make the total go backwards.
 */

export interface TotalsSample {
  atMs: number;
  records: number;
  bytes: number;
}

export interface Rate {
  recordsPerSec: number;
  bytesPerSec: number;
}

export interface RatePoint extends Rate {
  /** ISO time of the sample the rate ends at. */
  at: string;
}

export const MINUTE_MS = 60_000;
/** Samples are kept this long: the longest window, plus one sample interval to span it whole. */
export const KEEP_MS = 16 * MINUTE_MS;
/** A rate needs samples at least this far apart. */
const MIN_SPAN_MS = 1_000;

/** One growing counter pair, sampled over time. */
export class TotalsSeries {
  #samples: TotalsSample[] = [];

  /** Adds a sample; a total below the previous one (a reset) starts the series again. */
  add(sample: TotalsSample): void {
    const last = this.#samples.at(-1);
    if (last && sample.atMs <= last.atMs) return;
    if (last && (sample.records < last.records || sample.bytes < last.bytes)) this.#samples = [];
    this.#samples.push(sample);
    const oldest = sample.atMs - KEEP_MS;
    let drop = 0;
    while (drop < this.#samples.length - 1 && this.#samples[drop]!.atMs < oldest) drop++;
    if (drop > 0) this.#samples.splice(0, drop);
  }

  get samples(): readonly TotalsSample[] {
    return this.#samples;
  }

  /**
   * The rate over the last `windowMs` up to the newest sample, over a shorter span when the
   * series is younger than the window; null until two samples are `MIN_SPAN_MS` apart.
   */
  rate(windowMs: number): Rate | null {
    return rateBetween(this.#samples, this.#samples.length - 1, windowMs);
  }

  /** One point per sample: the rate over `smoothMs` up to it, oldest first. */
  history(smoothMs: number): RatePoint[] {
    const out: RatePoint[] = [];
    for (let i = 1; i < this.#samples.length; i++) {
      const r = rateBetween(this.#samples, i, smoothMs);
      if (r) out.push({ at: new Date(this.#samples[i]!.atMs).toISOString(), ...r });
    }
    return out;
  }
}

function rateBetween(samples: readonly TotalsSample[], end: number, windowMs: number): Rate | null {
  const last = samples[end];
  if (!last) return null;
  // The oldest sample inside the window (the first one when the window reaches past it).
  let i = end;
  while (i > 0 && samples[i - 1]!.atMs >= last.atMs - windowMs) i--;
  // No other sample inside the window (sampling paused): the one before stands in.
  if (i === end && end > 0) i = end - 1;
  const first = samples[i]!;
  const span = last.atMs - first.atMs;
  if (span < MIN_SPAN_MS) return null;
  return {
    recordsPerSec: ((last.records - first.records) * 1000) / span,
    bytesPerSec: ((last.bytes - first.bytes) * 1000) / span,
  };
}

export interface ThroughputView {
  m1: Rate | null;
  m15: Rate | null;
}

/** Per-topic series and their sum. */
export class ThroughputTracker {
  readonly #topics = new Map<string, TotalsSeries>();
  readonly #total = new TotalsSeries();
  #last = new Map<string, { records: number; bytes: number }>();
  #sum = { records: 0, bytes: 0 };
  #lastAtMs = Number.NEGATIVE_INFINITY;

  /** Takes the committed totals of every registered topic at `atMs`. */
  sample(atMs: number, totals: ReadonlyMap<string, { records: number; bytes: number }>): void {
    if (atMs <= this.#lastAtMs) return;
    this.#lastAtMs = atMs;
    for (const [topic, t] of totals) {
      const prev = this.#last.get(topic);
      if (prev && t.records >= prev.records && t.bytes >= prev.bytes) {
        this.#sum.records += t.records - prev.records;
        this.#sum.bytes += t.bytes - prev.bytes;
      }
      let series = this.#topics.get(topic);
      if (!series) {
        series = new TotalsSeries();
        this.#topics.set(topic, series);
      }
      series.add({ atMs, records: t.records, bytes: t.bytes });
    }
    for (const topic of this.#topics.keys()) if (!totals.has(topic)) this.#topics.delete(topic);
    this.#last = new Map([...totals].map(([k, v]) => [k, { records: v.records, bytes: v.bytes }]));
    this.#total.add({ atMs, records: this.#sum.records, bytes: this.#sum.bytes });
  }

  /** When the newest sample was taken (0: never). */
  get lastSampleMs(): number {
    return Math.max(0, this.#lastAtMs);
  }

  topic(topic: string): ThroughputView {
    const s = this.#topics.get(topic);
    return { m1: s?.rate(MINUTE_MS) ?? null, m15: s?.rate(15 * MINUTE_MS) ?? null };
  }

  total(): ThroughputView {
    return { m1: this.#total.rate(MINUTE_MS), m15: this.#total.rate(15 * MINUTE_MS) };
  }

  /** The total's rate at each sample of the last 15 minutes, smoothed over `smoothMs`. */
  history(smoothMs = 30_000): RatePoint[] {
    return this.#total.history(smoothMs);
  }
}
