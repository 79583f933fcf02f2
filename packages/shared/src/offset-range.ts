/**
 * Offset ranges: the unit of work (DESIGN.md invariant 1).
 *
 * A range is `(topic, partition, start, end)` with `end` exclusive. Offsets are bigint in
 * memory and decimal strings on the wire (JSON, ZooKeeper), zero-padded to 20 digits in
 * names so that lexical order is numeric order (2^63 - 1 has 19 digits).
 */

export interface OffsetRange {
  topic: string;
  partition: number;
  /** First offset of the range. */
  start: bigint;
  /** First offset after the range (exclusive). */
  end: bigint;
}

export const OFFSET_DIGITS = 20;

/** `42n` → `00000000000000000042`. */
export function padOffset(offset: bigint): string {
  if (offset < 0n) throw new RangeError(`offset must not be negative, got ${offset}`);
  return offset.toString().padStart(OFFSET_DIGITS, '0');
}

/** Kafka offsets are signed 64-bit integers: nothing above 2^63 - 1 can name a record. */
export const MAX_OFFSET = 2n ** 63n - 1n;

/** An offset's text in requests and records: 1 to 20 decimal digits (then at most {@link MAX_OFFSET}). */
export const OFFSET_PATTERN = '^\\d{1,20}$';

/**
 * What is wrong with a decimal offset string (padded or not), or null: it must be a decimal
 * integer from 0 to {@link MAX_OFFSET}. The words fit after a field name (`fromOffset: …`).
 */
export function offsetProblem(text: string): string | null {
  if (new RegExp(OFFSET_PATTERN).test(text) && BigInt(text) <= MAX_OFFSET) return null;
  const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  return `must be a decimal integer from 0 to ${MAX_OFFSET} (a Kafka offset is a signed 64-bit integer), got ${JSON.stringify(shown)}`;
}

/** Parses a decimal offset string (padded or not) into a bigint, rejecting anything else. */
export function parseOffset(text: string, what = 'offset'): bigint {
  const problem = offsetProblem(text);
  if (problem) throw new RangeError(`${what} ${problem}`);
  return BigInt(text);
}

/** Name of a range's ZooKeeper node below its partition: `{start20}-{end20}`. */
export function rangeNodeName(range: Pick<OffsetRange, 'start' | 'end'>): string {
  return `${padOffset(range.start)}-${padOffset(range.end)}`;
}

export function parseRangeNodeName(name: string): { start: bigint; end: bigint } {
  const m = /^(\d{20})-(\d{20})$/.exec(name);
  if (!m) throw new RangeError(`not a range node name: "${name}"`);
  return { start: BigInt(m[1]!), end: BigInt(m[2]!) };
}

/**
 * The public id of a range, used by the API and CLI: `{topic}-{partition}-{start}-{end}`.
 * Topic names may contain `-`, so it is parsed from the right.
 */
export function rangeId(range: OffsetRange): string {
  return `${range.topic}-${range.partition}-${range.start}-${range.end}`;
}

export function parseRangeId(id: string): OffsetRange {
  const m = /^(.+)-(\d{1,10})-(\d{1,20})-(\d{1,20})$/.exec(id);
  if (!m) {
    throw new RangeError(`range id must look like "{topic}-{partition}-{start}-{end}", got "${id}"`);
  }
  const range = { topic: m[1]!, partition: Number(m[2]), start: BigInt(m[3]!), end: BigInt(m[4]!) };
  if (range.end > MAX_OFFSET) {
    throw new RangeError(`range id "${id}" has an offset above ${MAX_OFFSET}, the largest Kafka offset`);
  }
  if (range.end <= range.start) throw new RangeError(`range id "${id}" has end <= start`);
  return range;
}

/**
 * BullMQ job id of one attempt of a range. BullMQ ignores an add whose id still exists, so
 * enqueueing the same attempt twice is harmless; ids may not contain `:`.
 */
export function jobId(range: OffsetRange, attempt: number): string {
  return `${rangeId(range)}-a${attempt}`;
}

export function rangeLength(range: Pick<OffsetRange, 'start' | 'end'>): bigint {
  return range.end - range.start;
}
