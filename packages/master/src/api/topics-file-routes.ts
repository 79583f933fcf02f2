/**
 * `/api/v1/topics-file`: the topics file (packages/shared/src/topics-file.ts) through the API,
 * for `sluice apply` and `sluice export`. The CLI installs with no dependencies, so it carries
 * no YAML parser: the master reads and writes the file's text for it, with the same code its
 * own file mode uses, so that a file means one thing whoever reads it. Applying the topics is
 * left to PUT /api/v1/topics/{topic}, one topic at a time.
 */
import { formatTopicsFile, parseTopicsFile } from '@sluice/shared';
import { listTopics } from '../stores/topic-store.ts';
import type { RoutePlugin } from './api-deps.ts';
import { bearerSecurity, errorResponses } from './common-schemas.ts';
import type { Answer } from './type-provider.ts';

/** A topics file of a few thousand topics; the API's usual limit (64 KiB) holds about 300. */
const FILE_LIMIT_BYTES = 4 * 1024 * 1024;

const parseBodySchema = {
  type: 'object',
  properties: {
    fileName: {
      type: 'string',
      maxLength: 4096,
      description: 'Named in the messages (`topics.yaml:12:3: …`).',
    },
    text: { type: 'string', description: 'The file: YAML or JSON, as the README describes.' },
  },
  required: ['fileName', 'text'],
  additionalProperties: false,
} as const;

export const topicsFileSchema = {
  type: 'object',
  description: 'The file read: one registration body per topic, with the lines they came from.',
  properties: {
    fileName: { type: 'string' },
    prune: { type: 'boolean', description: '`prune: true` in the file.' },
    topics: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          topic: { type: 'string' },
          body: {
            type: 'object',
            additionalProperties: true,
            description: 'The PUT /api/v1/topics/{topic} body: `defaults` merged under the entry.',
          },
          line: { type: 'integer', description: 'Line of the entry.' },
          fieldLines: {
            type: 'object',
            additionalProperties: { type: 'integer' },
            description: 'Line of each field of the body (a field from `defaults`: the line of `defaults:`).',
          },
        },
        required: ['topic', 'body', 'line', 'fieldLines'],
      },
    },
  },
  required: ['fileName', 'prune', 'topics'],
} as const;

const exportSchema = {
  type: 'object',
  properties: {
    text: {
      type: 'string',
      description: 'The topics file (YAML) of every registered topic not being deleted.',
    },
    topics: { type: 'integer', description: 'How many topics it holds.' },
  },
  required: ['text', 'topics'],
} as const;

export type TopicsFileAnswer = Answer<typeof topicsFileSchema>;
export type TopicsExportAnswer = Answer<typeof exportSchema>;

export const topicsFileRoutes: RoutePlugin = async (app, { deps }) => {
  app.post(
    '/parse',
    {
      bodyLimit: FILE_LIMIT_BYTES,
      schema: {
        tags: ['topics'],
        summary: 'Read a topics file',
        description:
          'Reads the text of a topics file and answers one registration body per topic with the lines it came from; changes nothing. A file that is not valid YAML or JSON or not of the documented shape is 400 SLUICE_ERR_TOPICS_FILE, the message naming `file:line:column` and the fix. The topics’ fields are checked by PUT /api/v1/topics/{topic} (`?dryRun=true` to change nothing).',
        security: bearerSecurity,
        body: parseBodySchema,
        response: { 200: topicsFileSchema, ...errorResponses(400, 401, 403, 413) },
      },
    },
    async (req) => parseTopicsFile(req.body.text, req.body.fileName),
  );

  app.get(
    '/',
    {
      prefixTrailingSlash: 'no-slash',
      schema: {
        tags: ['topics'],
        summary: 'The registered topics as a topics file',
        description:
          'Every registered topic not being deleted, sorted by name, with every field a registration sets and none Sluice decided: applying it (`sluice apply -f`) to this installation changes nothing.',
        response: { 200: exportSchema, ...errorResponses(401, 403) },
      },
    },
    async () => {
      const records = (await listTopics(deps.zk()))
        .map((t) => t.record)
        .filter((r) => r.state !== 'deleting');
      return {
        text: formatTopicsFile(records as unknown as Record<string, unknown>[]),
        topics: records.length,
      };
    },
  );
};
