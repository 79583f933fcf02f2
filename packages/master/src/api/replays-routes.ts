/**
 * `/api/v1/replays`: export a window of a registered topic again (another prefix, format or
 * compression) while its own ingestion carries on (replay-request.ts makes one, replay-runner.ts
 * runs it; replay-schemas.ts describes the answers).
 *
 *   POST   /api/v1/replays          resolve the window to fixed offsets, store it (201)
 *   GET    /api/v1/replays          every replay with its progress
 *   GET    /api/v1/replays/{id}     one replay, per partition
 *   DELETE /api/v1/replays/{id}     cancel (202); ranges in flight may finish
 *
 * A destination inside a registered topic's `{prefix}/{topic}/` (or a running replay's), or
 * holding one, is refused with 400: the same offsets would name the same objects.
 */
import { createReplayFromRequest } from '../replays/replay-request.ts';
import { cancelReplay, listReplays, readReplay, replayNotFound, replayView } from '../stores/replay-store.ts';
import type { RoutePlugin } from './api-deps.ts';
import { bearerSecurity, errorResponses } from './common-schemas.ts';
import {
  replayBodySchema,
  replayIdParamsSchema,
  replayListSchema,
  replayViewSchema,
} from './replay-schemas.ts';

export const replaysRoutes: RoutePlugin = async (app, { deps }) => {
  app.post(
    '/',
    {
      prefixTrailingSlash: 'no-slash',
      schema: {
        tags: ['replays'],
        summary: 'Export a window of a topic again, to another prefix or in another format',
        description:
          'Resolves the window to fixed offsets per partition (what Kafka has now), stores the replay and answers 201; the leader then writes its ranges, with their own commit records under the replay’s prefix, while the topic’s ingestion goes on. 409 (SLUICE_ERR_DESTINATION_OVERLAP) when the destination is inside (or holds) a registered topic’s or a running replay’s folder; 429 (SLUICE_ERR_LIMIT_REACHED) when SLUICE_MAX_RUNNING_REPLAYS replays are running already: the request is refused, not queued.',
        security: bearerSecurity,
        body: replayBodySchema,
        response: { 201: replayViewSchema, ...errorResponses(400, 401, 403, 404, 409, 429) },
      },
    },
    async (req, reply) => {
      const { record, root } = await createReplayFromRequest(deps, req.body);
      req.log.info(
        { replay: record.id, topic: record.topic, partitions: record.partitions.length, root },
        'replay created',
      );
      return reply.code(201).send(await replayView(deps.zk(), record));
    },
  );

  app.get(
    '/',
    {
      prefixTrailingSlash: 'no-slash',
      schema: {
        tags: ['replays'],
        summary: 'Replays and their progress',
        response: {
          200: replayListSchema,
          ...errorResponses(401, 403),
        },
      },
    },
    async () => {
      const zk = deps.zk();
      const replays = await listReplays(zk);
      return { replays: await Promise.all(replays.map((r) => replayView(zk, r))) };
    },
  );

  app.get(
    '/:id',
    {
      schema: {
        tags: ['replays'],
        summary: 'One replay, with the progress of each partition',
        params: replayIdParamsSchema,
        response: { 200: replayViewSchema, ...errorResponses(401, 403, 404) },
      },
    },
    async (req) => {
      const zk = deps.zk();
      const stored = await readReplay(zk, req.params.id);
      if (!stored) throw replayNotFound(req.params.id);
      return replayView(zk, stored.record);
    },
  );

  app.delete(
    '/:id',
    {
      schema: {
        tags: ['replays'],
        summary: 'Cancel a replay',
        description:
          'No new ranges are planned; ranges not being worked on are dropped; a range a live worker holds may finish. What was committed stays in S3.',
        security: bearerSecurity,
        params: replayIdParamsSchema,
        response: { 202: replayViewSchema, ...errorResponses(401, 403, 404) },
      },
    },
    async (req, reply) => {
      const zk = deps.zk();
      const record = await cancelReplay(zk, req.params.id, new Date());
      req.log.info({ replay: record.id }, 'replay cancelled');
      return reply.code(202).send(await replayView(zk, record));
    },
  );
};
