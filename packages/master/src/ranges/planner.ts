/**
 * The planner: one partition's offset line and policy in, new ranges out. Pure: no I/O, no
 * client, no clock (the caller passes `nowMs`), so every rule is tested alone.
 *
 * Rules (docs/range-lifecycle.md, "Planning"):
 *  - Planning continues from the planned offset: the end of the partition's last range, or
 *    its committed offset when it has none. Ranges tile the line (invariant 1).
 *  - When the planned offset is below the log start offset, retention already deleted that
 *    span: it becomes one range by itself, so that its worker records the gap loudly rather
 *    than the planner silently skipping it.
 *  - Full ranges hold `min(maxRangeMessages, maxRangeBytes / bytesPerOffset)` offsets (at
 *    least one); they are cut while the backlog holds a whole one.
 *  - The shorter remainder is cut once its oldest record has waited `flushIntervalMs`.
 *  - Nothing at or beyond the last stable offset is planned (read_committed).
 *  - At most `maxInFlight` ranges of a partition are in flight.
 */
import type { RangePolicy } from '@sluice/shared';

/**
 * "At `atMs`, every offset below `below` was visible." Kept in order of growth; the first
 * entry whose `below` exceeds an offset tells when that offset was first seen.
 */
export interface Arrival {
  below: bigint;
  atMs: number;
}

export interface PlanInput {
  /** End of the last range, or the committed offset when no range is in flight. */
  planned: bigint;
  /** Log start offset. */
  earliest: bigint;
  /** Last stable offset: the first offset a read_committed consumer cannot yet read. */
  lastStable: bigint;
  policy: Pick<RangePolicy, 'maxRangeMessages' | 'maxRangeBytes' | 'flushIntervalMs'>;
  /** Average uncompressed bytes per offset of committed ranges; 0 when not known yet. */
  bytesPerOffset: number;
  /** When offsets became visible (see {@link noteArrival}). */
  arrivals: readonly Arrival[];
  nowMs: number;
  inFlight: number;
  maxInFlight: number;
}

export type PlanReason = 'gap' | 'full' | 'flush';

export interface PlannedSpan {
  start: bigint;
  end: bigint;
  /** Why it was cut: a retention gap, a full range, or a shorter range after the flush interval. */
  reason: PlanReason;
}

/** Offsets in one full range: the message cap, lowered by the byte cap when the size is known. */
export function fullRangeOffsets(
  policy: Pick<RangePolicy, 'maxRangeMessages' | 'maxRangeBytes'>,
  bytesPerOffset: number,
): bigint {
  let n = BigInt(Math.max(1, Math.floor(policy.maxRangeMessages)));
  if (Number.isFinite(bytesPerOffset) && bytesPerOffset > 0) {
    const bySize = BigInt(Math.max(1, Math.floor(policy.maxRangeBytes / bytesPerOffset)));
    if (bySize < n) n = bySize;
  }
  return n;
}

/** When the record at `offset` was first seen, or null when it has not been seen. */
export function firstSeenMs(arrivals: readonly Arrival[], offset: bigint): number | null {
  for (const a of arrivals) if (a.below > offset) return a.atMs;
  return null;
}

/** Most arrivals kept per partition; past it the newest is folded into the last (its time stays older). */
export const MAX_ARRIVALS = 256;

/**
 * Notes what is visible now and forgets what is planned. The result is what the next call
 * of {@link planRanges} should get. Keeping the time of each growth (not only of the
 * first) means the remainder left after full ranges is timed from its own first sighting.
 */
export function noteArrival(
  arrivals: readonly Arrival[],
  lastStable: bigint,
  planned: bigint,
  nowMs: number,
): Arrival[] {
  const kept = arrivals.filter((a) => a.below > planned);
  if (lastStable <= planned) return kept;
  const last = kept[kept.length - 1];
  if (last && last.below >= lastStable) return kept;
  if (last && kept.length >= MAX_ARRIVALS) {
    kept[kept.length - 1] = { below: lastStable, atMs: last.atMs };
    return kept;
  }
  kept.push({ below: lastStable, atMs: nowMs });
  return kept;
}

/** The new ranges of one partition, in offset order, starting at `input.planned`. */
export function planRanges(input: PlanInput): PlannedSpan[] {
  const out: PlannedSpan[] = [];
  let at = input.planned;
  let room = input.maxInFlight - input.inFlight;
  if (room <= 0) return out;

  if (at < input.earliest) {
    out.push({ start: at, end: input.earliest, reason: 'gap' });
    at = input.earliest;
    room--;
  }

  const full = fullRangeOffsets(input.policy, input.bytesPerOffset);
  while (room > 0 && input.lastStable - at >= full) {
    out.push({ start: at, end: at + full, reason: 'full' });
    at += full;
    room--;
  }

  if (room > 0 && input.lastStable > at) {
    const seen = firstSeenMs(input.arrivals, at);
    if (seen !== null && input.nowMs - seen >= input.policy.flushIntervalMs) {
      out.push({ start: at, end: input.lastStable, reason: 'flush' });
    }
  }
  return out;
}
