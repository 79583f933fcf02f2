/**
 * Pure: what an audit says about a registration with `resume: false` (issue 15 point 1). Such
 * a registration starts each partition where `startFrom` says although the destination held
 * commit records of the same topic: from below their end the offsets between are written a
 * second time (the audit then finds overlaps), from above it they are never copied (the audit
 * sees no gap: the partition's line begins at its start). Either way an operator reading the
 * audit must see the cause, so the audit answer carries this report beside its findings.
 */
import type { TopicRecord } from '@sluice/shared';

export interface ResumeOffPartition {
  partition: number;
  /** Where the registration started the partition. */
  startOffset: string;
  /** The end of the contiguous commit records of this topic id found at registration; null when there were none. */
  commitRecordsEnd: string | null;
  /** The consequence in words: which offsets were written twice or not copied. */
  detail: string;
}

export interface ResumeOffReport {
  /** When the topic was registered with `resume: false`. */
  registeredAt: string;
  partitions: ResumeOffPartition[];
}

function consequence(start: bigint, end: bigint | null): string {
  if (end === null) return 'no commit records of this topic id were found: nothing written twice or skipped';
  if (start < end) return `offsets [${start}, ${end}) written again (the commit records already held them)`;
  if (start > end)
    return `offsets [${end}, ${start}) not copied (after the commit records, before the start)`;
  return 'started where the commit records end: nothing written twice or skipped';
}

/** The report for a topic record, or null when its registration resumed (or predates `resume`). */
export function resumeOffReport(
  record: Partial<Pick<TopicRecord, 'resume' | 'starts' | 'createdAt'>>,
  partition?: number,
): ResumeOffReport | null {
  if (record.resume !== false || !record.starts || !record.createdAt) return null;
  return {
    registeredAt: record.createdAt,
    partitions: record.starts
      .filter((s) => partition === undefined || s.partition === partition)
      .map((s) => ({
        partition: s.partition,
        startOffset: s.startOffset,
        commitRecordsEnd: s.commitRecordsEnd ?? null,
        detail: consequence(
          BigInt(s.startOffset),
          s.commitRecordsEnd === undefined ? null : BigInt(s.commitRecordsEnd),
        ),
      })),
  };
}
