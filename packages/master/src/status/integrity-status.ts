/**
 * The integrity part of `GET /api/v1/status`: per topic the leader's continuous audit, the
 * hour finalizer's progress and verify differences; and the replays with their progress.
 * All from ZooKeeper (any master answers): `/sluice/topics/{t}/audit`, `…/finalizer`,
 * `…/verify/*`, `/sluice/replays/*`.
 */
import {
  auditStatePath,
  decodeJson,
  finalizerPath,
  type Granularity,
  type TopicRecord,
  timeFolder,
  topicRoot,
  type VerifyMismatch,
  verifyMismatchesPath,
  type ZkSession,
} from '@sluice/shared';
import type { Answer } from '../api/type-provider.ts';
import type { AuditState } from '../integrity/audit-loop.ts';
import { type FinalizerState, unitMs } from '../integrity/finalizer.ts';
import { listReplays, replayView } from '../stores/replay-store.ts';

/** Verify differences listed per topic (all are counted). */
const LISTED_MISMATCHES = 5;

export const integrityTopicProperties = {
  audit: {
    type: ['object', 'null'],
    description:
      'The leader’s continuous audit of the topic’s output (new commit records every few minutes, everything once a day); null until it ran. Run `sluice audit` for a full check on demand.',
    properties: {
      checkedAt: { type: 'string' },
      fullAt: { type: 'string' },
      problems: { type: 'integer', description: 'Problems found (0 is good).' },
      findings: { type: 'array', items: { type: 'string' } },
    },
  },
  finalizer: {
    type: ['object', 'null'],
    description: 'Time-partitioned topics: the newest hour or day folder with _SUCCESS, and late data.',
    properties: {
      newestFinalized: { type: ['string', 'null'] },
      finalizedUntil: { type: ['string', 'null'] },
      lateRecords: { type: 'integer' },
      lateObjects: { type: 'integer' },
      updatedAt: { type: 'string' },
    },
  },
  verifyMismatches: {
    type: 'object',
    description: 'Completed ranges whose re-read (SLUICE_VERIFY_ON_RETRY) differed from their commit record.',
    properties: {
      count: { type: 'integer' },
      latest: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            range: { type: 'string' },
            cause: {
              type: 'string',
              description: '`retention`: Kafka deleted or compacted records since; `nondeterministic`.',
            },
            checkedAt: { type: 'string' },
            differences: { type: 'array', items: { type: 'string' } },
          },
        },
      },
    },
  },
} as const;

export const replaysStatusSchema = {
  type: 'array',
  description: 'Replays (GET /api/v1/replays/{id} has them per partition).',
  items: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      topic: { type: 'string' },
      state: { type: 'string' },
      destination: { type: 'string' },
      createdAt: { type: 'string' },
      finishedAt: { type: ['string', 'null'] },
      offsets: { type: 'string' },
      committedOffsets: { type: 'string' },
      remaining: { type: 'string' },
      rangesInFlight: { type: 'integer' },
      failedRanges: { type: 'integer' },
    },
  },
} as const;

async function readJson<T>(zk: ZkSession, path: string): Promise<T | null> {
  const node = await zk.get(path);
  if (!node || node.data.length === 0) return null;
  try {
    return decodeJson<T>(node.data, path);
  } catch {
    return null;
  }
}

async function topicIntegrity(zk: ZkSession, t: TopicRecord): Promise<TopicIntegrity> {
  const [audit, finalizer, names] = await Promise.all([
    readJson<AuditState>(zk, auditStatePath(t.topic)),
    readJson<FinalizerState>(zk, finalizerPath(t.topic)),
    zk.children(verifyMismatchesPath(t.topic)),
  ]);
  const mismatches = (
    await Promise.all(names.map((n) => readJson<VerifyMismatch>(zk, `${verifyMismatchesPath(t.topic)}/${n}`)))
  ).filter((m): m is VerifyMismatch => m !== null);
  mismatches.sort((a, b) => (a.checkedAt < b.checkedAt ? 1 : a.checkedAt > b.checkedAt ? -1 : 0));
  const g: Granularity | null = finalizer?.granularity ?? null;
  const newest = finalizer?.newestFinalized ?? null;
  return {
    audit: audit
      ? {
          checkedAt: audit.checkedAt,
          fullAt: audit.fullAt,
          problems: audit.problems,
          findings: audit.findings,
        }
      : null,
    finalizer:
      finalizer && g
        ? {
            newestFinalized: newest === null ? null : timeFolder(g, newest),
            finalizedUntil: newest === null ? null : new Date(newest + unitMs(g)).toISOString(),
            lateRecords: finalizer.lateRecords,
            lateObjects: finalizer.lateObjects,
            updatedAt: finalizer.updatedAt,
          }
        : null,
    verifyMismatches: {
      count: mismatches.length,
      latest: mismatches.slice(0, LISTED_MISMATCHES).map((m) => ({
        range: `${m.replay ? `${m.replay}:` : ''}${m.topic}-${m.partition}-${m.start}-${m.end}`,
        cause: m.cause,
        checkedAt: m.checkedAt,
        differences: m.differences,
      })),
    },
  };
}

/** What the status adds about integrity, read in parallel. */
export async function readIntegrity(
  zk: ZkSession,
  topics: readonly TopicRecord[],
): Promise<{ byTopic: Map<string, TopicIntegrity>; replays: ReplayStatus[] }> {
  const [perTopic, replays] = await Promise.all([
    Promise.all(topics.map((t) => topicIntegrity(zk, t))),
    listReplays(zk).then((list) => Promise.all(list.map((r) => replayView(zk, r)))),
  ]);
  return {
    byTopic: new Map(topics.map((t, i) => [t.topic, perTopic[i]!])),
    replays: replays.map((r) => ({
      id: r.id,
      topic: r.topic,
      state: r.state,
      destination: `s3://${r.output.destination.bucket}/${topicRoot(r.output.destination.prefix, r.topic)}`,
      createdAt: r.createdAt,
      finishedAt: r.finishedAt,
      offsets: r.progress.offsets,
      committedOffsets: r.progress.committedOffsets,
      remaining: r.progress.remaining,
      rangesInFlight: r.progress.rangesInFlight,
      failedRanges: r.progress.failedRanges,
    })),
  };
}

/** The status with each topic's integrity and the replays added. */
export function withIntegrity<S extends { topics: Array<{ topic: string }> }>(
  status: S,
  integrity: { byTopic: Map<string, TopicIntegrity>; replays: ReplayStatus[] },
): S & { replays: ReplayStatus[] } {
  const none: TopicIntegrity = { audit: null, finalizer: null, verifyMismatches: { count: 0, latest: [] } };
  return {
    ...status,
    topics: status.topics.map((t) => ({ ...t, ...(integrity.byTopic.get(t.topic) ?? none) })),
    replays: integrity.replays,
  };
}

/**
 * What the schemas above say, as types: a topic's integrity fields and one replay's line. The
 * nested fields stay optional in the schemas (they come from nodes older releases wrote), so
 * they are optional here too.
 */
const topicIntegritySchema = {
  type: 'object',
  properties: integrityTopicProperties,
  required: ['audit', 'finalizer', 'verifyMismatches'],
} as const;
export type TopicIntegrity = Answer<typeof topicIntegritySchema>;
export type ReplayStatus = Answer<typeof replaysStatusSchema>[number];
