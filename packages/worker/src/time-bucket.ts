/**
 * Which time bucket folder a record belongs to. Pure.
 *
 * `kafka-time` buckets by the record's Kafka timestamp. `event-time` reads a dotted field of
 * the JSON value: an ISO-8601 string, or epoch milliseconds as a number or numeric string.
 * When the field is missing or unparseable the Kafka timestamp is used and the record is
 * counted as a fallback. An ISO time without a zone is read as UTC, never as the process's
 * local time: two workers in different zones must write the same keys (invariant 3).
 */
import { bucketFolder, type PartitionBy } from '@sluice/shared';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** 0000-01-01T00:00:00Z and 10000-01-01T00:00:00Z: the years a `dt=YYYY` folder can name. */
const MIN_MS = -62_167_219_200_000;
const MAX_MS = 253_402_300_800_000;

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;
const NUMERIC = /^\s*-?\d+(?:\.\d+)?\s*$/;

/** Epoch milliseconds of an ISO-8601 text, or undefined when it is not one. */
export function parseIsoTime(text: string): number | undefined {
  const m = ISO.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone = 'Z'] = m;
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  // Date.UTC maps years 0-99 to 1900-1999; setUTCFullYear does not.
  const date = new Date(0);
  date.setUTCFullYear(Number(y), month - 1, day);
  // Reject days the month does not have (2026-02-30 would roll over into March).
  if (date.getUTCDate() !== day) return undefined;
  const fracMs = Number(frac.padEnd(3, '0').slice(0, 3));
  let t = date.getTime() + hour * HOUR_MS + minute * 60_000 + second * 1000 + fracMs;
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offH = Number(digits.slice(0, 2));
    const offM = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (offH > 23 || offM > 59) return undefined;
    t -= sign * (offH * HOUR_MS + offM * 60_000);
  }
  return t;
}

/** Epoch milliseconds of an event-time field value, or undefined when it is not a time. */
export function parseEventTime(v: unknown): number | undefined {
  let t: number | undefined;
  if (typeof v === 'number') {
    t = v;
  } else if (typeof v === 'string') {
    t = NUMERIC.test(v) ? Number(v) : parseIsoTime(v);
  } else {
    return undefined;
  }
  if (t === undefined || !Number.isFinite(t)) return undefined;
  t = Math.floor(t);
  return t >= MIN_MS && t < MAX_MS ? t : undefined;
}

/** The value at a dotted path of a parsed JSON value, or undefined. */
export function fieldAt(value: unknown, path: readonly string[]): unknown {
  let v = value;
  for (const seg of path) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    if (!Object.hasOwn(v, seg)) return undefined;
    v = (v as Record<string, unknown>)[seg];
  }
  return v;
}

/**
 * Assigns records to bucket folders for one range. Keeps the last bucket so that a run of
 * records in the same hour costs one division, not one `Date`.
 */
export class TimeBucketer {
  readonly #partitionBy: PartitionBy;
  readonly #unitMs: number;
  readonly #path: readonly string[] | null;
  #lastSlot = Number.NaN;
  #lastFolder = '';
  /** Records whose event-time field was missing or unparseable. */
  fallbacks = 0;

  constructor(partitionBy: PartitionBy) {
    this.#partitionBy = partitionBy;
    this.#unitMs = partitionBy.kind === 'none' ? 0 : partitionBy.granularity === 'hour' ? HOUR_MS : DAY_MS;
    this.#path = partitionBy.kind === 'event-time' ? partitionBy.field.split('.') : null;
  }

  /** Whether {@link folderOf} needs the parsed value (event-time). */
  get needsValue(): boolean {
    return this.#path !== null;
  }

  /**
   * The bucket time (ms) of a record: its event time, or its Kafka timestamp. A Kafka timestamp
   * outside the years 0000-9999 (a producer can set any int64) is clamped to the nearest one,
   * so that one odd record cannot stop its partition.
   */
  timeOf(kafkaTimestampMs: number, parsedValue: unknown): number {
    if (this.#path !== null) {
      const t = parsedValue === undefined ? undefined : parseEventTime(fieldAt(parsedValue, this.#path));
      if (t !== undefined) return t;
      this.fallbacks++;
    }
    return Math.min(Math.max(kafkaTimestampMs, MIN_MS), MAX_MS - 1);
  }

  /** The folder (`dt=…/hr=…/` or `''`) of a record. `parsedValue` is its JSON value, if any. */
  folderOf(kafkaTimestampMs: number, parsedValue: unknown): string {
    if (this.#unitMs === 0) return '';
    const t = this.timeOf(kafkaTimestampMs, parsedValue);
    const slot = Math.floor(t / this.#unitMs);
    if (slot !== this.#lastSlot) {
      this.#lastFolder = bucketFolder(this.#partitionBy, t);
      this.#lastSlot = slot;
    }
    return this.#lastFolder;
  }
}
