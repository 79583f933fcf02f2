/**
 * `GET /api/v1/topics/{topic}/audit`: is everything there, exactly once? Reconciles the
 * topic's output in S3 with its commit records and the committed offsets in ZooKeeper
 * (audit.ts says exactly what is checked). Any master answers; it reads, never writes.
 *
 * The answer is 200 with `ok: false` and the findings when problems are found: the audit
 * worked, the data has problems. The CLI turns that into exit code 4.
 *
 * An audit reads S3 per request, so it needs the token whatever SLUICE_PROTECT_READS says, is
 * rate-limited, and runs through the audit gate (audit-gate.ts: one per topic, cached, bounded).
 */
import { topicNameProblem, ValidationError } from '@sluice/shared';
import { describeFinding } from '../integrity/audit.ts';
import { auditPartitions, runAudit } from '../integrity/audit-runner.ts';
import { lazyOutputStore } from '../stores/output-store.ts';
import { notRegistered, readTopic } from '../stores/topic-store.ts';
import type { RoutePlugin } from './api-deps.ts';
import { type AuditGate, checkWindowSize } from './audit-gate.ts';
import {
  bearerSecurity,
  errorResponses,
  offsetText,
  ref,
  requestOffsetProblems,
  topicParamsSchema,
} from './common-schemas.ts';
import type { Answer, Request } from './type-provider.ts';

/** Findings answered at most; `problems` and `counts` always count all. */
export const MAX_FINDINGS = 1_000;

const auditQuerySchema = {
  type: 'object',
  properties: {
    partition: { type: 'string', pattern: '^\\d{1,10}$', description: 'Only this partition.' },
    fromOffset: { ...offsetText, description: 'Only offsets from here (inclusive).' },
    toOffset: { ...offsetText, description: 'Only offsets below this (exclusive).' },
    deep: { type: 'string', enum: ['true', 'false'], description: 'Read every object back.' },
    fresh: {
      type: 'string',
      enum: ['true', 'false'],
      description: 'Audit again even when a cached answer of the same audit is there.',
    },
  },
  additionalProperties: false,
} as const;

type AuditQuery = Request<typeof auditQuerySchema>;

const findingSchema = {
  type: 'object',
  description:
    'One problem. `kind`: gap (with `cause` retention, unknown, or abandoned: offsets a forced DELETE gave up), overlap, missing-object, size-mismatch, checksum-mismatch, content-mismatch, unreadable-object, extra-object, bad-commit-record, count-mismatch. `message` says it in words.',
  properties: {
    kind: { type: 'string' },
    message: { type: 'string' },
    partition: { type: 'integer' },
    start: { type: 'string' },
    end: { type: 'string' },
    cause: { type: 'string' },
    key: { type: 'string' },
    commit: { type: 'string' },
    commits: { type: 'array', items: { type: 'string' } },
    expected: { type: ['string', 'integer'] },
    actual: { type: ['string', 'integer'] },
    size: { type: 'integer' },
    detail: { type: 'string' },
  },
  required: ['kind', 'message'],
} as const;

export const auditReportSchema = {
  type: 'object',
  properties: {
    topic: { type: 'string' },
    checkedAt: { type: 'string', format: 'date-time', description: 'When the audit was computed.' },
    cached: {
      type: 'boolean',
      description:
        'True when this is the answer of an earlier identical audit (SLUICE_AUDIT_CACHE_MS; nothing was committed since); `fresh=true` audits again.',
    },
    deep: { type: 'boolean' },
    window: {
      type: 'object',
      properties: {
        partition: { type: ['integer', 'null'] },
        fromOffset: { type: ['string', 'null'] },
        toOffset: { type: ['string', 'null'] },
      },
    },
    ok: { type: 'boolean', description: 'True when nothing was found.' },
    problems: { type: 'integer' },
    counts: { type: 'object', additionalProperties: { type: 'integer' }, description: 'Findings by kind.' },
    partitions: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          partition: { type: 'integer' },
          from: { type: ['string', 'null'], description: 'First offset checked.' },
          to: {
            type: ['string', 'null'],
            description: 'End of the check (exclusive): the committed offset, or the window’s end.',
          },
          committedOffset: { type: ['string', 'null'] },
          ranges: { type: 'integer', description: 'Commit records checked.' },
          records: { type: 'integer' },
          objects: { type: 'integer' },
          bytes: { type: 'integer' },
          retentionGapOffsets: { type: 'string' },
          unknownGapOffsets: { type: 'string' },
          abandonedOffsets: {
            type: 'string',
            description: 'Offsets without a commit record that a forced DELETE abandoned.',
          },
          rejectedRecords: {
            type: 'integer',
            description: 'Records the output format could not take, in the ranges’ rejected-records objects.',
          },
        },
        required: ['partition', 'from', 'to', 'committedOffset', 'ranges', 'records', 'objects', 'bytes'],
      },
    },
    findings: { type: 'array', items: findingSchema },
    truncated: {
      type: 'boolean',
      description: `True when more than ${MAX_FINDINGS} findings were left out.`,
    },
    pendingObjects: { type: 'integer', description: 'Objects of ranges in flight (not committed yet).' },
    markers: { type: 'integer', description: '`_SUCCESS` markers seen.' },
    abandoned: {
      type: 'array',
      description:
        'Ranges that forced deletions of this topic (DELETE ?force=true) gave up, in any destination the topic had: their offsets were never written there by Sluice.',
      items: {
        type: 'object',
        properties: {
          partition: { type: 'integer' },
          start: { type: 'string' },
          end: { type: 'string', description: 'Exclusive.' },
          destination: { type: 'string', description: '`bucket/prefix` the range was planned for.' },
          abandonedAt: { type: 'string', format: 'date-time' },
          reason: { type: 'string' },
          error: { type: ['string', 'null'], description: 'The range’s last error.' },
        },
        required: ['partition', 'start', 'end', 'destination', 'abandonedAt', 'reason', 'error'],
      },
    },
    startedWithoutResume: {
      type: ['object', 'null'],
      description:
        'Set when the topic was registered with `resume: false`: when, where each partition started, where the commit records of the topic id ended then, and which offsets were therefore written twice or not copied.',
      properties: {
        registeredAt: { type: 'string', format: 'date-time' },
        partitions: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              partition: { type: 'integer' },
              startOffset: ref('Offset'),
              commitRecordsEnd: ref('NullableOffset'),
              detail: { type: 'string' },
            },
            required: ['partition', 'startOffset', 'commitRecordsEnd', 'detail'],
          },
        },
      },
      required: ['registeredAt', 'partitions'],
    },
  },
  required: [
    'topic',
    'checkedAt',
    'cached',
    'ok',
    'problems',
    'counts',
    'partitions',
    'findings',
    'truncated',
  ],
} as const;

/** The answer of `GET /api/v1/topics/{topic}/audit`. */
export type AuditAnswer = Answer<typeof auditReportSchema>;

function windowOf(q: AuditQuery): { partition?: number; from?: bigint; to?: bigint } {
  const w: { partition?: number; from?: bigint; to?: bigint } = {};
  if (q.partition !== undefined) w.partition = Number(q.partition);
  const problems = requestOffsetProblems({ fromOffset: q.fromOffset, toOffset: q.toOffset }, 'querystring.');
  if (problems.length > 0) throw new ValidationError(problems);
  if (q.fromOffset !== undefined) w.from = BigInt(q.fromOffset);
  if (q.toOffset !== undefined) w.to = BigInt(q.toOffset);
  if (w.from !== undefined && w.to !== undefined && w.to <= w.from) {
    throw new ValidationError([
      { path: 'querystring.toOffset', message: `must be greater than fromOffset (${w.from})` },
    ]);
  }
  return w;
}

export const auditRoutes: RoutePlugin<{ audits: AuditGate<AuditAnswer> }> = async (app, { deps, audits }) => {
  const storeOf = lazyOutputStore(app, deps.config);

  app.get(
    '/:topic/audit',
    {
      config: { costly: true },
      schema: {
        tags: ['topics'],
        summary: 'Check that everything of the topic is in S3, exactly once',
        security: bearerSecurity,
        description:
          'Reconciles S3 with the commit records and the committed offsets: every offset below each partition’s committed offset is covered by exactly one commit record, every object a commit record lists exists with its size (and, with deep=true, its SHA-256, record count and offsets), and no object below the topic’s folder is unaccounted for (whole-topic audits only). Answers 200 with ok=false and the findings when there are problems. Needs the token even when reads are open; one audit per topic at a time (429 with Retry-After); answers cached (SLUICE_AUDIT_CACHE_MS, `cached: true`); at most SLUICE_AUDIT_MAX_OFFSETS offsets per audit (400 says how to narrow the window).',
        params: topicParamsSchema,
        querystring: auditQuerySchema,
        response: { 200: auditReportSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (req) => {
      const { topic } = req.params;
      const problem = topicNameProblem(topic);
      if (problem) throw new ValidationError([{ path: 'params.topic', message: problem }]);
      const window = windowOf(req.query);
      const zk = deps.zk();
      const stored = await readTopic(zk, topic);
      if (!stored) throw notRegistered(topic);
      const deep = req.query.deep === 'true';
      const partitions = await auditPartitions(zk, topic);
      checkWindowSize(partitions, window, deps.config.http.auditMaxOffsets);
      // The state the answer is computed from: a commit or a change of the topic makes it stale.
      const fingerprint = [
        stored.version,
        ...partitions.map((p) => `${p.partition}:${p.committedOffset}`),
      ].join();
      const key = [topic, window.partition, window.from, window.to, deep].join('|');
      const hit = req.query.fresh === 'true' ? null : audits.cached(key, fingerprint);
      if (hit) return { ...hit, cached: true };
      // An audit can take longer than the idle timeout of a connection that says nothing meanwhile.
      // (Node keeps the keep-alive timeout for after the answer; `inject` has no real socket.)
      req.raw.socket?.setTimeout?.(0);
      return audits.run(topic, key, fingerprint, async () => {
        const report = await runAudit(zk, storeOf(), stored.record, { window, deep });
        req.log.info({ topic, ok: report.ok, problems: report.problems, deep }, 'audit done');
        return {
          ...report,
          checkedAt: new Date().toISOString(),
          cached: false,
          deep,
          window: {
            partition: window.partition ?? null,
            fromOffset: window.from?.toString() ?? null,
            toOffset: window.to?.toString() ?? null,
          },
          findings: report.findings
            .slice(0, MAX_FINDINGS)
            .map((f) => ({ ...f, message: describeFinding(f) })),
          truncated: report.findings.length > MAX_FINDINGS,
        };
      });
    },
  );
};
