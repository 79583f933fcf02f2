/**
 * `/api/v1/patterns`: topic patterns (issue 16). A pattern is a regular expression over topic
 * names with the settings to register each topic it takes with; the leader's discovery
 * (topics/pattern-discovery.ts) registers those topics, now and as they appear. Writes go
 * straight to ZooKeeper, as topic writes do; any master may serve them.
 *
 * Deleting a pattern leaves the topics it registered registered (each is a topic like any
 * other, and keeps `pattern` as where it came from); delete them with DELETE /api/v1/topics/{t}.
 */
import { patternNameProblem, ValidationError } from '@sluice/shared';
import type { FastifyRequest } from 'fastify';
import type { PatternRecord } from '../stores/pattern-store.ts';
import {
  createPattern,
  listPatterns,
  patternNotFound,
  readPattern,
  removePattern,
  updatePattern,
} from '../stores/pattern-store.ts';
import { listTopics } from '../stores/topic-store.ts';
import { newPatternRecord, patchedPatternRecord } from '../topics/pattern-request.ts';
import type { ApiDeps, RoutePlugin } from './api-deps.ts';
import { bearerSecurity, errorResponses } from './common-schemas.ts';
import {
  type PatternViewAnswer,
  patternCreateBodySchema,
  patternListSchema,
  patternParamsSchema,
  patternPatchBodySchema,
  patternViewSchema,
} from './pattern-schemas.ts';

/** A pattern name reaches a ZooKeeper path only after it passed the naming rule. */
async function checkNameParam(req: FastifyRequest): Promise<void> {
  const name = (req.params as { name?: string } | undefined)?.name;
  if (name === undefined) return;
  const problem = patternNameProblem(name);
  if (problem) throw new ValidationError([{ path: 'params.name', message: problem }]);
}

/** The registered topics each pattern brought in, by pattern name. */
async function topicsByPattern(deps: ApiDeps): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const { record } of await listTopics(deps.zk())) {
    if (record.pattern === undefined) continue;
    out.set(record.pattern, [...(out.get(record.pattern) ?? []), record.topic]);
  }
  return out;
}

function viewOf(deps: ApiDeps, record: PatternRecord, topics: Map<string, string[]>): PatternViewAnswer {
  return {
    ...record,
    topics: topics.get(record.name) ?? [],
    discovery: deps.patternReports?.get(record.name) ?? null,
  };
}

export const patternsRoutes: RoutePlugin = async (app, { deps }) => {
  app.addHook('preHandler', checkNameParam);

  app.post(
    '/',
    {
      prefixTrailingSlash: 'no-slash',
      schema: {
        tags: ['patterns'],
        summary: 'Create a topic pattern',
        description:
          'Checks the expressions (they must compile as JavaScript regular expressions, at most 500 characters, without nested quantifiers) and the settings as a registration’s (with the pattern’s name standing in for the topic), proves the destination writable as a registration does (a probe object under `{prefix}/{name}/_sluice/probe/`, deleted at once), and stores the pattern. Within SLUICE_PATTERN_DISCOVERY_INTERVAL_MS the leader registers every Kafka topic it takes that is not registered yet, and later ones as they appear, each through the checks of POST /api/v1/topics.',
        security: bearerSecurity,
        body: patternCreateBodySchema,
        response: {
          201: { ...patternViewSchema, description: 'The stored pattern.' },
          ...errorResponses(400, 401, 403, 409, 422),
        },
      },
    },
    async (req, reply) => {
      const { record, config } = newPatternRecord(req.body, deps.config, new Date());
      await deps.checkDestination(record.name, config);
      await createPattern(deps.zk(), record);
      req.log.info(
        { pattern: record.name, regex: record.pattern, exclude: record.exclude },
        'pattern created',
      );
      return reply.code(201).send(viewOf(deps, record, new Map()));
    },
  );

  app.get(
    '/',
    {
      prefixTrailingSlash: 'no-slash',
      schema: {
        tags: ['patterns'],
        summary: 'List topic patterns',
        response: { 200: patternListSchema, ...errorResponses(401, 403) },
      },
    },
    async () => {
      const [patterns, topics] = await Promise.all([listPatterns(deps.zk()), topicsByPattern(deps)]);
      return { patterns: patterns.map((p) => viewOf(deps, p, topics)) };
    },
  );

  app.get(
    '/:name',
    {
      schema: {
        tags: ['patterns'],
        summary: 'A topic pattern, the topics it registered and its last discovery pass',
        params: patternParamsSchema,
        response: { 200: patternViewSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (req) => {
      const stored = await readPattern(deps.zk(), req.params.name);
      if (!stored) throw patternNotFound(req.params.name);
      return viewOf(deps, stored.record, await topicsByPattern(deps));
    },
  );

  app.patch(
    '/:name',
    {
      schema: {
        tags: ['patterns'],
        summary: 'Change a topic pattern’s exclusions, deleted topics or settings',
        description:
          'New settings are checked as at creation (destination probe included) and apply to topics the pattern registers afterwards; registered topics keep theirs. A shorter `deletedTopics` lets the pattern register a topic an operator had unregistered.',
        security: bearerSecurity,
        params: patternParamsSchema,
        body: patternPatchBodySchema,
        response: { 200: patternViewSchema, ...errorResponses(400, 401, 403, 404, 422) },
      },
    },
    async (req) => {
      const zk = deps.zk();
      const stored = await readPattern(zk, req.params.name);
      if (!stored) throw patternNotFound(req.params.name);
      const now = new Date();
      const checked = patchedPatternRecord(stored.record, req.body, deps.config, now);
      if (checked.config) await deps.checkDestination(stored.record.name, checked.config);
      const record = await updatePattern(
        zk,
        req.params.name,
        (r) => patchedPatternRecord(r, req.body, deps.config, now).record,
      );
      req.log.info({ pattern: record.name, fields: Object.keys(req.body) }, 'pattern changed');
      return viewOf(deps, record, await topicsByPattern(deps));
    },
  );

  app.delete(
    '/:name',
    {
      schema: {
        tags: ['patterns'],
        summary: 'Delete a topic pattern',
        description:
          'The pattern registers nothing more. The topics it registered stay registered (their `pattern` still says where they came from); unregister them one by one with DELETE /api/v1/topics/{topic}.',
        security: bearerSecurity,
        params: patternParamsSchema,
        response: {
          200: { ...patternViewSchema, description: 'The pattern as it was; `topics` stay registered.' },
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (req) => {
      const record = await removePattern(deps.zk(), req.params.name);
      req.log.info({ pattern: record.name }, 'pattern deleted');
      return { ...viewOf(deps, record, await topicsByPattern(deps)), discovery: null };
    },
  );
};
