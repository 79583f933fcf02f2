/**
 * Pure: what a sample of a topic must show for its event-time field to be used in the declared
 * unit (issue 15 point 4; the Kafka side is event-time-check.ts). A wrong unit or a misspelt
 * field is systematic, so it shows in a sample: refused when none of the sampled records has
 * the field, or more than half of the values present do not read as a plausible date. A few odd
 * records among good ones are not refused: the worker buckets them by Kafka time and counts
 * them as fallbacks (commit records, status, metric).
 *
 * Plausible dates run from 2000-01-01 to one day after now: a wrong unit is off by a factor of
 * 1000 or more, which lands in 1970 or thousands of years ahead, while real event times (clock
 * skew included) fall in this window.
 */
import {
  EVENT_TIME_UNITS,
  type EventTimeUnit,
  fieldAt,
  type PartitionBy,
  parseEventTime,
} from '@sluice/shared';
import type { SampledRecord } from '../kafka/kafka-sample.ts';

/** 2000-01-01T00:00:00Z: no earlier event time is taken for a plausible one. */
export const PLAUSIBLE_FROM_MS = Date.UTC(2000, 0, 1);
/** Event times may run this far ahead of the master's clock (producers' clocks, time zones). */
export const PLAUSIBLE_AHEAD_MS = 24 * 3_600_000;
/** Records read per partition, and partitions read at most. */
export const SAMPLE_RECORDS = 20;
export const SAMPLE_PARTITIONS = 16;

type EventTimeBy = Extract<PartitionBy, { kind: 'event-time' }>;

/** The raw value of a record's event-time field; `present: false` when it has none. */
export function eventTimeField(
  value: Buffer | null,
  path: readonly string[],
): { present: false } | { present: true; raw: unknown } {
  if (!value) return { present: false };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch {
    return { present: false };
  }
  const raw = fieldAt(parsed, path);
  return raw === undefined ? { present: false } : { present: true, raw };
}

/** The event time (ms) of a record's value as the worker reads it, or null. */
export function eventTimeOf(value: Buffer | null, partitionBy: EventTimeBy): number | null {
  const f = eventTimeField(value, partitionBy.field.split('.'));
  return f.present ? (parseEventTime(f.raw, partitionBy.unit) ?? null) : null;
}

function plausible(ms: number | undefined, nowMs: number): ms is number {
  return ms !== undefined && ms >= PLAUSIBLE_FROM_MS && ms <= nowMs + PLAUSIBLE_AHEAD_MS;
}

/** A value as the message shows it: JSON, short, with no character that could drive a terminal. */
function shown(raw: unknown): string {
  const text = JSON.stringify(raw) ?? String(raw);
  const short = text.length > 60 ? `${text.slice(0, 57)}...` : text;
  return short.replace(
    /[\p{Cc}\p{Cf}]/gu,
    (c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`,
  );
}

function unitName(unit: EventTimeUnit | undefined): string {
  return unit === undefined ? 'unit (none declared: epoch milliseconds, or ISO-8601 text)' : `unit "${unit}"`;
}

export interface SampledEventTime {
  partition: number;
  record: SampledRecord;
}

/**
 * Why a sample's event times cannot be used in the declared unit (the message of the 422), or
 * null when they can: none of the sampled records has the field, or more than half of the
 * values present do not read as a plausible date.
 */
export function eventTimeSampleProblem(
  partitionBy: EventTimeBy,
  sample: readonly SampledEventTime[],
  nowMs: number,
): string | null {
  if (sample.length === 0) return null;
  const path = partitionBy.field.split('.');
  const present: Array<{ partition: number; offset: bigint; raw: unknown }> = [];
  for (const s of sample) {
    const f = eventTimeField(s.record.value, path);
    if (f.present) present.push({ partition: s.partition, offset: s.record.offset, raw: f.raw });
  }
  const field = `partitionBy.field "${partitionBy.field}"`;
  if (present.length === 0) {
    return `${field} is in none of the ${sample.length} records sampled from the topic (JSON values with that dotted path), so every record would be bucketed by Kafka time; correct the path, or use partitionBy kind "kafka-time"`;
  }
  const bad = present.filter((p) => !plausible(parseEventTime(p.raw, partitionBy.unit), nowMs));
  if (bad.length * 2 <= present.length) return null;
  const example = bad[0]!;
  const ms = parseEventTime(example.raw, partitionBy.unit);
  const reads = ms === undefined ? 'does not parse' : `reads as ${new Date(ms).toISOString()}`;
  const fits = EVENT_TIME_UNITS.filter((u) => bad.every((b) => plausible(parseEventTime(b.raw, u), nowMs)));
  const fix =
    fits.length > 0
      ? `they read as dates in unit "${fits[0]}": set partitionBy.unit to "${fits[0]}"`
      : `set partitionBy.unit to the unit the producers write (${EVENT_TIME_UNITS.join(', ')}), or use partitionBy kind "kafka-time"`;
  return `${field} in ${unitName(partitionBy.unit)}: ${bad.length} of ${present.length} sampled values are not a date from 2000-01-01 to one day ahead; e.g. ${shown(example.raw)} (partition ${example.partition}, offset ${example.offset}) ${reads}; ${fix}`;
}

/**
 * Where to sample each partition with records: the first records a registration would write, or
 * the last ones before the end when fewer than a sample are left (they show the records'
 * shape as well, and for `startFrom: latest` they are all there is).
 */
export function sampleOffsets(
  partitions: ReadonlyArray<{ partition: number; earliest: bigint; lastStable: bigint; start: bigint }>,
): Array<{ partition: number; offset: bigint }> {
  const n = BigInt(SAMPLE_RECORDS);
  return partitions
    .filter((p) => p.lastStable > p.earliest)
    .map((p) => {
      const tail = p.lastStable - n > p.earliest ? p.lastStable - n : p.earliest;
      return { partition: p.partition, offset: p.start < tail ? p.start : tail };
    });
}
