/**
 * How the topics-file loop (topics-file-loop.ts) changes topics: through this master's own API,
 * in process (`inject`, no socket), with `PUT /api/v1/topics/{topic}` per topic and
 * `DELETE /api/v1/topics/{topic}` per pruned one. So a file can do exactly what an operator with
 * the API token can, no more: the body's JSON schema, the planner's lifecycle rules, the
 * destination probe and the token check all apply, and a refusal is the API's own answer (its
 * code and message, the field's line of the file added). Its requests carry the master's first
 * API token (none configured: changes are refused, as for anyone) and count against the rate
 * limit under their own client address.
 */
import {
  ErrorCodes,
  entryProblemText,
  type MasterConfig,
  type Problem,
  parseTopicsFile,
  SluiceError,
  type TopicsFileEntry,
  type ZkSession,
} from '@sluice/shared';
import type { FastifyInstance } from 'fastify';
import type { ErrorAnswer } from '../api/error-answer.ts';
import { listTopics } from '../stores/topic-store.ts';
import type { TopicChange } from './topic-upsert.ts';
import { type TopicApplied, TopicRefused, type TopicsConverger } from './topics-file-loop.ts';

/** The client address the loop's requests come from (the rate limit's bucket, the request log). */
export const TOPICS_FILE_CLIENT = 'sluice-topics-file';

export interface ApiConvergerOptions {
  /** The master's API; null until it is built (the loop then reports the API unavailable). */
  app: () => FastifyInstance | null;
  zk: () => ZkSession;
  config: Pick<MasterConfig, 'apiTokens'> & { http: Pick<MasterConfig['http'], 'allowedHosts'> };
}

/** A change of a PUT answer as one line: `flushIntervalMs: 1000 → 2000 (now)`. */
function changeText(c: unknown): string {
  if (typeof c === 'string') return c;
  const change = c as Partial<TopicChange> | null;
  if (typeof change?.field !== 'string') return JSON.stringify(c);
  const show = (v: unknown) => (v === undefined ? 'default' : JSON.stringify(v));
  return `${change.field}: ${show(change.from)} → ${show(change.to)}${change.applies ? ` (${change.applies})` : ''}`;
}

export function apiConverger(o: ApiConvergerOptions): TopicsConverger<TopicsFileEntry> {
  let fileName = '';
  const call = async (method: 'PUT' | 'DELETE', topic: string, payload?: object) => {
    const app = o.app();
    if (!app)
      throw new SluiceError(
        ErrorCodes.UNAVAILABLE,
        'the API of this master is not started yet; tried again',
        {
          retryable: true,
        },
      );
    const token = o.config.apiTokens[0];
    const res = await app.inject({
      method,
      url: `/api/v1/topics/${encodeURIComponent(topic)}`,
      remoteAddress: TOPICS_FILE_CLIENT,
      headers: {
        host: o.config.http.allowedHosts[0] ?? 'localhost',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      ...(payload ? { payload } : {}),
    });
    const body = res.json() as Record<string, unknown>;
    return { status: res.statusCode, body };
  };
  const refused = (entry: TopicsFileEntry | null, answer: ErrorAnswer): TopicRefused => {
    const problems: Problem[] = answer.problems ?? [];
    if (entry && problems.length > 0) {
      const texts = problems.map((p) => entryProblemText(fileName, entry, p));
      const line = Number(/^.*?:(\d+): /.exec(texts[0]!)?.[1] ?? entry.line);
      return new TopicRefused(answer.code, texts.join('; '), line);
    }
    return new TopicRefused(answer.code, answer.message, entry?.line ?? null);
  };
  return {
    parse(text, name) {
      fileName = name;
      return parseTopicsFile(text, name);
    },
    errorLine(err) {
      if (!(err instanceof SluiceError) || err.code !== ErrorCodes.TOPICS_FILE) return null;
      const m = /^.*?:(\d+):\d+: /.exec(err.message);
      return m ? Number(m[1]) : null;
    },
    async registered() {
      const topics = await listTopics(o.zk());
      // A topic a pattern brought in is the pattern's, not the file's: `prune: true` leaves it
      // (a file that names it takes it over like any registered topic).
      return topics
        .filter((t) => t.record.state !== 'deleting' && t.record.pattern === undefined)
        .map((t) => t.record.topic);
    },
    async apply(entry): Promise<TopicApplied> {
      const { status, body } = await call('PUT', entry.topic, entry.body);
      if (status >= 400) throw refused(entry, body as unknown as ErrorAnswer);
      const result = body.result === 'created' || status === 201 ? 'created' : body.result;
      return {
        result: result === 'changed' ? 'changed' : result === 'created' ? 'created' : 'unchanged',
        changes: Array.isArray(body.changes) ? body.changes.map(changeText) : [],
      };
    },
    async remove(topic) {
      const { status, body } = await call('DELETE', topic);
      if (status >= 400) throw refused(null, body as unknown as ErrorAnswer);
    },
  };
}
