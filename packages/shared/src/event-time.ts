/**
 * How an event-time field's value becomes a time, in the unit a topic declares. Pure; shared
 * because the worker buckets records by it and the master checks a sample of the topic with it
 * at registration (a unit that does not fit the data must be refused there, not discovered as
 * folders in 1970: issue 15 point 4).
 *
 * Units: `s`, `ms`, `us`, `ns` read a JSON number or a numeric string as that many units since
 * the epoch (fractions allowed; integer strings are read exactly, so nanoseconds beyond 2^53
 * keep their milliseconds); `iso8601` reads an ISO-8601 text. Without a declared unit (topics
 * registered before units existed) a number or numeric string is epoch milliseconds and any
 * other string ISO-8601, as Sluice always read them. An ISO time without a zone is read as
 * UTC, never as the process's local time: two workers in different zones must write the same
 * keys (invariant 3).
 */

export const EVENT_TIME_UNITS = ['s', 'ms', 'us', 'ns', 'iso8601'] as const;
export type EventTimeUnit = (typeof EVENT_TIME_UNITS)[number];

const HOUR_MS = 3_600_000;
/** 0000-01-01T00:00:00Z and 10000-01-01T00:00:00Z: the years a `dt=YYYY` folder can name. */
export const FOLDER_MIN_MS = -62_167_219_200_000;
export const FOLDER_END_MS = 253_402_300_800_000;

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;
const NUMERIC = /^\s*-?\d+(?:\.\d+)?\s*$/;
const INTEGER = /^\s*-?\d+\s*$/;

/** Units of a numeric event time per millisecond, as a divisor (s and ms multiply). */
const PER_MS: Record<Exclude<EventTimeUnit, 'iso8601'>, { mul: number; div: bigint }> = {
  s: { mul: 1000, div: 1n },
  ms: { mul: 1, div: 1n },
  us: { mul: 1, div: 1000n },
  ns: { mul: 1, div: 1_000_000n },
};

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

/** Epoch ms of a count of `unit`s given as a number or a numeric text, or undefined. */
function numericTime(v: number | string, unit: Exclude<EventTimeUnit, 'iso8601'>): number | undefined {
  const { mul, div } = PER_MS[unit];
  if (typeof v === 'string' && INTEGER.test(v) && div > 1n) {
    // Exact: a nanosecond count has more digits than a double keeps.
    const n = BigInt(v.trim());
    const q = n / div;
    return Number(n < 0n && q * div !== n ? q - 1n : q);
  }
  const n = typeof v === 'number' ? v : Number(v);
  return (n * mul) / Number(div);
}

/**
 * Epoch milliseconds of an event-time field value in `unit` (see the header; undefined: the
 * rule of topics without a unit), or undefined when it is not a time in that unit or names a
 * year a folder cannot (outside 0000-9999).
 */
export function parseEventTime(v: unknown, unit?: EventTimeUnit): number | undefined {
  let t: number | undefined;
  if (unit === 'iso8601') {
    if (typeof v !== 'string') return undefined;
    t = parseIsoTime(v);
  } else if (typeof v === 'number') {
    t = numericTime(v, unit ?? 'ms');
  } else if (typeof v === 'string') {
    if (NUMERIC.test(v)) t = numericTime(v, unit ?? 'ms');
    else if (unit === undefined) t = parseIsoTime(v);
    else return undefined;
  } else {
    return undefined;
  }
  if (t === undefined || !Number.isFinite(t)) return undefined;
  t = Math.floor(t);
  return t >= FOLDER_MIN_MS && t < FOLDER_END_MS ? t : undefined;
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
