/**
 * `/api/v1/topics`: register, list, show, change (PATCH a few fields, PUT the whole config) and
 * delete topics. Every write goes straight
 * to ZooKeeper (any master may serve it, the leader acts on what it finds there); reads add
 * what Kafka knows about the partitions.
 */

import type { TopicRecord } from '@sluice/shared';
import { topicNameProblem, ValidationError } from '@sluice/shared';
import type { FastifyRequest } from 'fastify';
import { kafkaTopicViews } from '../kafka/kafka-view.ts';
import { partitionViews } from '../status/partition-view.ts';
import { lazyOutputStore } from '../stores/output-store.ts';
import { readPartitions, readTopicsPartitions } from '../stores/partition-reader.ts';
import { rememberDeletedTopic } from '../stores/pattern-store.ts';
import { listTopics, notRegistered, readTopic, updateTopic } from '../stores/topic-store.ts';
import { writeConfigObject } from '../topics/config-object-writer.ts';
import { resolveInferredSchema, resolvePutSchema } from '../topics/schema-infer-sample.ts';
import { dryRunRegistration, dryRunSchema } from '../topics/topic-dry-run.ts';
import { deletingTopicRecord } from '../topics/topic-request.ts';
import { applyTopicUpsert, planTopicUpsert } from '../topics/topic-upsert.ts';
import {
  changeTopic,
  checkRegistrationBody,
  checkTopicChange,
  registerTopic,
  type TopicWriteContext,
} from '../topics/topic-writes.ts';
import type { RoutePlugin } from './api-deps.ts';
import { bearerSecurity, errorResponses, topicParamsSchema } from './common-schemas.ts';
import {
  topicCreateBodySchema,
  topicDetailSchema,
  topicListSchema,
  topicPatchBodySchema,
  topicPutBodySchema,
  topicRecordSchema,
  topicUpsertAnswerSchema,
} from './topic-schemas.ts';

/** `DELETE …?force=true`: give up the ranges in flight instead of waiting for them. */
const deleteQuerySchema = {
  type: 'object',
  properties: {
    force: {
      type: 'string',
      enum: ['true', 'false'],
      description:
        'true: abandon the unfinished ranges (recorded, and reported by the audit) instead of waiting for them; for a topic stuck in `deleting`.',
    },
  },
  additionalProperties: false,
} as const;

/** `?dryRun=true` of POST and PUT: answer what the request would do, storing nothing. */
const dryRunQuerySchema = {
  type: 'object',
  properties: {
    dryRun: {
      type: 'string',
      enum: ['true', 'false'],
      description:
        'Answer what the request would do without storing anything (POST: partitions, backlog, objects, first keys; PUT: the plan).',
    },
  },
} as const;

interface TopicParams {
  topic: string;
}

/** A topic name reaches a ZooKeeper path only after it passed Kafka's naming rule. */
async function checkTopicParam(req: FastifyRequest): Promise<void> {
  const topic = (req.params as Partial<TopicParams> | undefined)?.topic;
  if (topic === undefined) return;
  const problem = topicNameProblem(topic);
  if (problem) throw new ValidationError([{ path: 'params.topic', message: problem }]);
}

export const topicsRoutes: RoutePlugin = async (app, { deps }) => {
  app.addHook('preHandler', checkTopicParam);
  // The destination's commit records decide where a registration starts (topic-resume.ts).
  const storeOf = lazyOutputStore(app, deps.config);
  const writeContext = (req: FastifyRequest): TopicWriteContext => ({ deps, store: storeOf, log: req.log });

  app.post(
    '/',
    {
      prefixTrailingSlash: 'no-slash',
      schema: {
        tags: ['topics'],
        summary: 'Register a topic',
        description:
          'Validates the config, refuses a destination folder `{prefix}/{topic}/` equal to, inside or holding another topic’s or a running replay’s (409 SLUICE_ERR_DESTINATION_OVERLAP), looks the topic up in Kafka, proves the destination writable with the master’s S3 credentials (HEAD of the bucket, then a PUT and a DELETE of one object under `{prefix}/{topic}/_sluice/probe/`; 422 when the bucket does not exist or may not be written), reads a sample of the topic when it is partitioned by event time (422 when the field does not read as dates from 2000 to one day ahead in `partitionBy.unit`), infers the columns of `schema: { "source": "infer" }` from the newest records (422 SLUICE_ERR_SCHEMA_INFER_UNUSABLE for a topic without records, values that are not JSON objects, or no field to type) and stores it in ZooKeeper; the leader starts planning its ranges. With `dryRun=true` nothing is stored: the answer (200) says what registering would do, after the same checks.',
        security: bearerSecurity,
        querystring: dryRunQuerySchema,
        body: topicCreateBodySchema,
        response: {
          200: dryRunSchema,
          201: {
            ...topicRecordSchema,
            description: 'The stored record; `starts` says where each partition starts.',
          },
          ...errorResponses(400, 401, 403, 404, 409, 422),
        },
      },
    },
    async (req, reply) => {
      const { body, inferred } = await resolveInferredSchema(deps, req.body);
      if (req.query.dryRun === 'true') {
        await checkRegistrationBody(deps, body);
        const answer = await dryRunRegistration(deps, storeOf(), body);
        return reply.code(200).send({ ...answer, ...(inferred ? { inferred } : {}) });
      }
      if (inferred) {
        // The answer holds the columns; what got none, and why, is only said here.
        req.log.info(
          { topic: body.topic, sampledRecords: inferred.sampledRecords, leftOut: inferred.leftOut },
          'schema inferred',
        );
      }
      return reply.code(201).send(await registerTopic(writeContext(req), body));
    },
  );

  app.get(
    '/',
    {
      prefixTrailingSlash: 'no-slash',
      schema: {
        tags: ['topics'],
        summary: 'List registered topics',
        response: { 200: topicListSchema, ...errorResponses(401, 403) },
      },
    },
    async () => {
      const zk = deps.zk();
      const topics = await listTopics(zk);
      const flights = await readTopicsPartitions(
        zk,
        topics.map((t) => t.record.topic),
        { withRanges: false },
      );
      return {
        topics: topics.map(({ record }) => {
          const parts = flights.get(record.topic) ?? [];
          return {
            ...record,
            summary: {
              partitions: parts.filter((p) => p.state !== null).length,
              rangesInFlight: parts.reduce((n, p) => n + p.rangeCount, 0),
              committedRecords: parts.reduce((n, p) => n + (p.state?.committedRecords ?? 0), 0),
              committedBytes: parts.reduce((n, p) => n + (p.state?.committedBytes ?? 0), 0),
            },
          };
        }),
      };
    },
  );

  app.get(
    '/:topic',
    {
      schema: {
        tags: ['topics'],
        summary: "A topic's config and the progress of each of its partitions",
        params: topicParamsSchema,
        response: { 200: topicDetailSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (req) => {
      const zk = deps.zk();
      const { topic } = req.params;
      const stored = await readTopic(zk, topic);
      if (!stored) throw notRegistered(topic);
      const [flights, kafka] = await Promise.all([
        readPartitions(zk, topic, { withRanges: true }),
        kafkaTopicViews(deps.kafka, [topic]),
      ]);
      const view = kafka.get(topic)!;
      return {
        ...stored.record,
        kafkaError: view.error,
        partitions: partitionViews(stored.record, flights, view),
      };
    },
  );

  app.patch(
    '/:topic',
    {
      schema: {
        tags: ['topics'],
        summary: 'Change a topic’s policy, or pause and resume it',
        description:
          'Changes apply to ranges planned afterwards; after a destination change, ranges that have not written anything yet (planned or failed, no object started) follow it under a new attempt. A topic being deleted takes no changes (409). A new destination is checked first, as at registration: a folder overlapping another topic’s or a running replay’s is 409, one that cannot be written 422; a new event-time partitioning is checked on the newest records (422).',
        security: bearerSecurity,
        params: topicParamsSchema,
        body: topicPatchBodySchema,
        response: { 200: topicRecordSchema, ...errorResponses(400, 401, 403, 404, 409, 422) },
      },
    },
    async (req) => changeTopic(writeContext(req), req.params.topic, req.body),
  );

  app.put(
    '/:topic',
    {
      schema: {
        tags: ['topics'],
        summary: 'Declare a topic: register it, or change it to exactly this config',
        description:
          'Takes the registration body (`topic` may repeat the path’s) and makes the topic exactly that: registers it when it is not (201 `created`, as POST does), else changes the fields that differ (200 `changed`, each change listed with when it applies) or writes nothing at all (200 `unchanged`). Omitted fields mean their defaults, not the stored values (PATCH keeps those). Read-only fields of a GET answer are accepted and ignored, so a GET body PUT back is `unchanged`. A change goes through PATCH’s checks (a new destination proved writable and its folder free, 409/422; a new event-time partitioning readable); a topic being deleted and a different `startFrom` (decided at registration) are refused with 409 naming the field. With `dryRun=true` nothing is stored: the answer (200) is the plan, after the same checks.',
        security: bearerSecurity,
        params: topicParamsSchema,
        querystring: dryRunQuerySchema,
        body: topicPutBodySchema,
        response: {
          200: topicUpsertAnswerSchema,
          201: { ...topicUpsertAnswerSchema, description: 'The topic was registered.' },
          ...errorResponses(400, 401, 403, 404, 409, 422),
        },
      },
    },
    async (req, reply) => {
      const { topic } = req.params;
      const stored = await readTopic(deps.zk(), topic);
      const body = await resolvePutSchema(deps, topic, stored?.record, req.body);
      const plan = planTopicUpsert(topic, stored?.record, body);
      if (req.query.dryRun === 'true') {
        const now = new Date();
        let record: TopicRecord | undefined;
        if (plan.result === 'created') {
          await checkRegistrationBody(deps, plan.body);
          await dryRunRegistration(deps, storeOf(), plan.body);
        } else if (plan.result === 'changed') {
          record = await checkTopicChange(deps, topic, plan.patch, now, plan.unset);
        } else record = plan.current;
        return reply.code(200).send({
          result: plan.result,
          dryRun: true,
          changes: plan.changes,
          ...(record ? { topic: record } : {}),
        });
      }
      const record = await applyTopicUpsert(writeContext(req), plan);
      return reply
        .code(plan.result === 'created' ? 201 : 200)
        .send({ result: plan.result, dryRun: false, changes: plan.changes, topic: record });
    },
  );

  app.delete(
    '/:topic',
    {
      schema: {
        tags: ['topics'],
        summary: 'Unregister a topic',
        description:
          'Sets the topic to `deleting`: the leader plans nothing more, lets ranges in flight finish and then removes its ZooKeeper state. Objects in S3 are not touched. A topic a pattern registered is added to the pattern’s `deletedTopics`, so the pattern does not register it again. With `force=true` (also on a topic already `deleting`) the leader does not wait: it abandons the unfinished ranges, records exactly which offsets it gave up and why (in ZooKeeper under /sluice/abandoned/{topic}/ and, when the destination takes it, in `{prefix}/{topic}/_sluice/abandoned/`), and the audit reports those offsets as abandoned.',
        security: bearerSecurity,
        params: topicParamsSchema,
        querystring: deleteQuerySchema,
        response: {
          202: { ...topicRecordSchema, description: 'The record, now `deleting`.' },
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (req, reply) => {
      const force = req.query.force === 'true';
      const record = await updateTopic(deps.zk(), req.params.topic, (r) =>
        deletingTopicRecord(r, new Date(), force),
      );
      // Recovery must not bring back a topic the operator unregistered, nor its pattern.
      await writeConfigObject(storeOf(), record, req.log);
      if (record.pattern !== undefined)
        await rememberDeletedTopic(deps.zk(), record.pattern, record.topic, new Date());
      req.log.info({ topic: record.topic, force }, 'topic deletion requested');
      return reply.code(202).send(record);
    },
  );
};
