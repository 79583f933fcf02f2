/**
 * The topics-file part of `GET /api/v1/status`: what the leader last did with the file
 * SLUICE_TOPICS_FILE names (topics/topics-file-loop.ts), so that an operator who changed a
 * ConfigMap sees whether it was applied, what changed, and why anything was refused. The leader
 * keeps its report in ZooKeeper, so every master answers the same; null when no file is set.
 */
import { decodeJson, encodeJson, isNoNode, TOPICS_FILE_REPORT_PATH, type ZkSession } from '@sluice/shared';
import type { Answer } from '../api/type-provider.ts';

const lineSchema = {
  type: ['integer', 'null'],
  description: 'The line of the file the topic (or the problem) is on; null when not known.',
} as const;

export const topicsFileStatusSchema = {
  type: ['object', 'null'],
  description:
    'The topics file the leader converges to (SLUICE_TOPICS_FILE), as the leader last read it; null when no file is set. API writes still work while a file is in force; the next change of the file wins.',
  properties: {
    path: { type: 'string' },
    master: { type: 'string', description: 'The leader that wrote this report.' },
    readAt: {
      type: ['string', 'null'],
      description:
        'When the leader last read content it had not seen (ISO time); it reads the file every SLUICE_TOPICS_FILE_INTERVAL_MS.',
    },
    hash: {
      type: ['string', 'null'],
      description: 'SHA-256 of the content last read; null when the file could not be read.',
    },
    appliedHash: {
      type: ['string', 'null'],
      description: 'SHA-256 of the content last applied; differs from `hash` while the file is invalid.',
    },
    appliedAt: { type: ['string', 'null'], description: 'When that content was applied (ISO time).' },
    result: {
      type: 'string',
      enum: ['pending', 'applied', 'partly-refused', 'invalid', 'unreadable'],
      description:
        '`pending`: no leader has read this file yet; `applied`: every topic of the file is as it says; `partly-refused`: some changes were refused (see `refusals`; tried again every 30 s, or SLUICE_TOPICS_FILE_INTERVAL_MS when longer); `invalid`: the file does not parse or breaks the schema, nothing was changed (see `error`, `line`); `unreadable`: the file cannot be read, nothing was changed.',
    },
    error: {
      type: ['string', 'null'],
      description: 'Why the file is invalid or unreadable, naming the line.',
    },
    line: { ...lineSchema, description: 'The line the error is on, when the file is invalid.' },
    prune: {
      type: 'boolean',
      description: 'Whether the file says `prune: true` (topics it no longer names are deleted).',
    },
    actions: {
      type: 'array',
      description:
        'What the last apply did per topic. `kept`: registered but not in the file, left alone because the file does not say `prune: true`.',
      items: {
        type: 'object',
        properties: {
          topic: { type: 'string' },
          action: { type: 'string', enum: ['created', 'changed', 'unchanged', 'deleted', 'kept'] },
          changes: {
            type: 'array',
            items: { type: 'string' },
            description:
              'Each change as PUT answered it: `field: old → new (when it applies)`, `default` for an unset value.',
          },
          line: lineSchema,
        },
        required: ['topic', 'action', 'changes', 'line'],
      },
    },
    refusals: {
      type: 'array',
      description:
        'Topics whose change was refused, with the reason (the API’s error code and message); the rest of the file is applied.',
      items: {
        type: 'object',
        properties: {
          topic: { type: 'string' },
          action: { type: 'string', enum: ['apply', 'delete'] },
          code: { type: 'string' },
          message: { type: 'string' },
          line: lineSchema,
        },
        required: ['topic', 'action', 'code', 'message', 'line'],
      },
    },
  },
  required: [
    'path',
    'master',
    'readAt',
    'hash',
    'appliedHash',
    'appliedAt',
    'result',
    'error',
    'line',
    'prune',
    'actions',
    'refusals',
  ],
} as const;

/** The leader's report on the topics file (null in the answer when no file is set). */
export type TopicsFileReport = NonNullable<Answer<typeof topicsFileStatusSchema>>;
export type TopicsFileAction = TopicsFileReport['actions'][number];
export type TopicsFileRefusal = TopicsFileReport['refusals'][number];

/** The stored report, or null when no leader has written one yet. */
export async function readTopicsFileReport(zk: ZkSession): Promise<TopicsFileReport | null> {
  const node = await zk.get(TOPICS_FILE_REPORT_PATH);
  if (!node || node.data.length === 0) return null;
  const { v: _v, ...report } = decodeJson<TopicsFileReport & { v: 1 }>(node.data, TOPICS_FILE_REPORT_PATH);
  return report;
}

/** Stores the leader's report (last writer wins: only the leader writes it). */
export async function writeTopicsFileReport(zk: ZkSession, report: TopicsFileReport): Promise<void> {
  const data = encodeJson({ v: 1, ...report });
  try {
    await zk.set(TOPICS_FILE_REPORT_PATH, data, -1);
  } catch (err) {
    if (!isNoNode(err)) throw err;
    await zk.create(TOPICS_FILE_REPORT_PATH, data);
  }
}

/** What a leader that has not read the file yet reports. */
export function pendingReport(path: string, master: string): TopicsFileReport {
  return {
    path,
    master,
    readAt: null,
    hash: null,
    appliedHash: null,
    appliedAt: null,
    result: 'pending',
    error: null,
    line: null,
    prune: false,
    actions: [],
    refusals: [],
  };
}

/**
 * The status's `topicsFile`: the stored report when it is about the file this master is given,
 * else `pending` (no leader has read that file yet); null when this master is given none.
 */
export async function topicsFileStatus(
  zk: ZkSession,
  cfg: { topicsFile: string; id: string },
): Promise<TopicsFileReport | null> {
  if (!cfg.topicsFile) return null;
  const report = await readTopicsFileReport(zk);
  return report && report.path === cfg.topicsFile ? report : pendingReport(cfg.topicsFile, cfg.id);
}
