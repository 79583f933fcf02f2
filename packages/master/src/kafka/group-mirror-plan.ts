/**
 * Pure: what the group mirror writes into a topic's consumer group, given Sluice's committed
 * offsets and the offsets the group holds now. Kept apart from the Kafka calls so that the
 * one rule that matters, "never backwards", is tested without a broker.
 *
 * Kafka's convention for a committed offset is the next offset to read; Sluice's committed
 * offset is already that (the first offset not yet in S3, exclusive of everything written), so
 * the two are compared and written as they are, with no +1 or -1.
 */

/** A partition whose group offset is beyond Sluice's committed offset (someone else moved it). */
export interface AheadPartition {
  partition: number;
  /** The group's offset, left as it is. */
  groupOffset: bigint;
  committedOffset: bigint;
}

export interface MirrorPlan {
  /** Partition → offset to commit: only those where the group is behind Sluice (or has none). */
  write: Map<number, bigint>;
  /** Partitions the group is ahead in: reported, never rewound. */
  ahead: AheadPartition[];
}

/**
 * The monotonic guard: a partition is written only when Sluice's committed offset is beyond
 * the group's (a group without an offset for it holds -1). Equal offsets need no write.
 */
export function mirrorPlan(
  committed: ReadonlyMap<number, bigint>,
  inGroup: ReadonlyMap<number, bigint>,
): MirrorPlan {
  const plan: MirrorPlan = { write: new Map(), ahead: [] };
  for (const [partition, committedOffset] of [...committed].sort((a, b) => a[0] - b[0])) {
    const groupOffset = inGroup.get(partition) ?? -1n;
    if (groupOffset < committedOffset) plan.write.set(partition, committedOffset);
    else if (groupOffset > committedOffset) plan.ahead.push({ partition, groupOffset, committedOffset });
  }
  return plan;
}

/** The group's offsets once `plan` is written: what it held, with the written ones raised. */
export function offsetsAfter(
  inGroup: ReadonlyMap<number, bigint>,
  written: ReadonlyMap<number, bigint>,
): Map<number, bigint> {
  const out = new Map([...inGroup].filter(([, o]) => o >= 0n));
  for (const [p, o] of written) out.set(p, o);
  return new Map([...out].sort((a, b) => a[0] - b[0]));
}

/**
 * Retry delay after `failures` failed rounds in a row of one topic: 1 s doubling to 60 s, so a
 * group that stays unreachable or busy costs one request and one log line a minute.
 */
export function mirrorRetryMs(failures: number): number {
  return Math.min(60_000, 1_000 * 2 ** Math.max(0, failures - 1));
}
