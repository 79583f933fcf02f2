/**
 * PUT /api/v1/topics/{topic}, the declarative write that `sluice apply` and the master's topics
 * file mode use: "this topic, exactly this config". The plan is pure (the stored record and the
 * body in, created / changed with each field's change / unchanged out, or a refusal); applying
 * it goes through the registration's or PATCH's own code path (topic-writes.ts), and an
 * unchanged plan writes nothing at all, so a file applied twice costs no ZooKeeper or S3 write.
 */
import {
  ErrorCodes,
  SluiceError,
  TOPIC_DEFAULTS,
  TOPIC_READ_ONLY_FIELDS,
  type TopicConfig,
  type TopicRecord,
  ValidationError,
} from '@sluice/shared';
import type { TopicCreateBody, TopicPatchBody, TopicPutBody } from '../api/topic-schemas.ts';
import { topicConfigFromBody } from './topic-request.ts';
import { changeTopic, registerTopic, type TopicWriteContext } from './topic-writes.ts';

/** When a changed field takes effect (see {@link APPLIES}). */
export type ChangeApplies = 'now' | 'new-ranges';

export interface TopicChange {
  field: string;
  /** The stored value; undefined when the field was unset. */
  from?: unknown;
  /** The value asked for; undefined when the field becomes unset (its default). */
  to?: unknown;
  applies: ChangeApplies;
}

export type TopicUpsertPlan =
  | { result: 'created'; topic: string; body: TopicCreateBody; changes: [] }
  | { result: 'unchanged'; topic: string; current: TopicRecord; changes: [] }
  | {
      result: 'changed';
      topic: string;
      current: TopicRecord;
      changes: TopicChange[];
      /** The changed fields set, as a PATCH body. */
      patch: TopicPatchBody;
      /** The changed fields the PUT omitted and the record had: removed. */
      unset: string[];
    };

/**
 * The per-field rule. `now`: read by the leader at its next planning round, the finalizer or
 * the group mirror (ranges already planned keep their size). `new-ranges`: the output settings
 * snapshotted into every range (invariant 3), so ranges planned after the change follow it and
 * a planned range is written as it was planned. `registration`: decided once, at registration
 * (where partitions start); a different value is refused.
 *
 * Written over the config's fields generically: a field not listed here, such as the ones added
 * after this table (keyTemplate, schema, compressionLevel…), applies to `new-ranges`, which is
 * safe for anything that shapes objects. A field that must be refused names itself here.
 */
const APPLIES: Record<string, ChangeApplies | 'registration'> = {
  maxRangeMessages: 'now',
  maxRangeBytes: 'now',
  flushIntervalMs: 'now',
  finalizeLatenessMs: 'now',
  mirrorGroup: 'now',
  startFrom: 'registration',
};

const READ_ONLY = new Set<string>([...TOPIC_READ_ONLY_FIELDS, 'topic']);
const DEFAULTS: Record<string, unknown> = TOPIC_DEFAULTS;

/** The registration body inside a PUT body: the read-only fields of a GET answer dropped. */
export function registrationBodyOf(topic: string, body: TopicPutBody): TopicCreateBody {
  const {
    topicId: _topicId,
    paused: _paused,
    state: _state,
    error: _error,
    createdAt: _createdAt,
    updatedAt: _updatedAt,
    starts: _starts,
    forcedAt: _forcedAt,
    pastDestinations: _past,
    summary: _summary,
    kafkaError: _kafkaError,
    partitions: _partitions,
    topic: named,
    ...registration
  } = body;
  if (named !== undefined && named !== topic) {
    throw new ValidationError([
      {
        path: 'topic',
        message: `must be the path's topic "${topic}" or be omitted, got ${JSON.stringify(named)}; PUT /api/v1/topics/${named} to declare that one`,
      },
    ]);
  }
  return { ...registration, topic };
}

/** A value in one canonical text (object keys sorted), so that key order never counts as a change. */
function canonical(value: unknown): string {
  if (value === undefined) return 'undefined';
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

type Rule = ChangeApplies | 'registration';

/** Each config field whose stored value (a default where a record predates it) differs from the asked one. */
function fieldDiffs(current: TopicRecord, desired: TopicConfig): Array<TopicChange & { rule: Rule }> {
  const stored = current as unknown as Record<string, unknown>;
  const asked = desired as unknown as Record<string, unknown>;
  const fields = [...new Set([...Object.keys(asked), ...Object.keys(stored)])].filter(
    (f) => !READ_ONLY.has(f),
  );
  const out: Array<TopicChange & { rule: Rule }> = [];
  for (const field of fields.sort()) {
    const from = stored[field] ?? DEFAULTS[field];
    const to = asked[field];
    if (canonical(from) === canonical(to)) continue;
    const rule = APPLIES[field] ?? 'new-ranges';
    out.push({
      field,
      ...(from === undefined ? {} : { from }),
      ...(to === undefined ? {} : { to }),
      applies: rule === 'now' ? 'now' : 'new-ranges',
      rule,
    });
  }
  return out;
}

/**
 * What a PUT of `body` to `topic` does given the stored record (undefined: not registered).
 * Throws the refusal: a body that fails validation (400), a topic being deleted, or a change of
 * a field decided at registration (409, each such field named).
 */
export function planTopicUpsert(
  topic: string,
  current: TopicRecord | undefined,
  body: TopicPutBody,
): TopicUpsertPlan {
  const registration = registrationBodyOf(topic, body);
  const desired = topicConfigFromBody(registration);
  if (!current) return { result: 'created', topic, body: registration, changes: [] };
  if (current.state === 'deleting') {
    throw new SluiceError(
      ErrorCodes.TOPIC_STATE,
      `topic "${topic}" is being deleted and takes no more changes; PUT it again once it is gone to register it anew`,
    );
  }
  const diffs = fieldDiffs(current, desired);
  const refused = diffs.filter((c) => c.rule === 'registration');
  if (refused.length > 0) {
    throw new ValidationError(
      refused.map((c) => ({
        path: c.field,
        message: `is decided at registration and cannot change for a registered topic (stored ${canonical(c.from)}, asked ${canonical(c.to)}); put the stored value back, or DELETE the topic and register it again`,
      })),
      ErrorCodes.TOPIC_STATE,
    );
  }
  const changes = diffs.map(({ rule: _rule, ...change }): TopicChange => change);
  if (changes.length === 0) return { result: 'unchanged', topic, current, changes: [] };
  const patch: Record<string, unknown> = {};
  const unset: string[] = [];
  for (const c of changes) {
    if (c.to === undefined) unset.push(c.field);
    else patch[c.field] = c.to;
  }
  // The fields come from a config the registration's own validation built.
  return { result: 'changed', topic, current, changes, patch: patch as TopicPatchBody, unset };
}

/** Carries a plan out: the registration, PATCH's change path, or nothing at all. */
export async function applyTopicUpsert(ctx: TopicWriteContext, plan: TopicUpsertPlan): Promise<TopicRecord> {
  switch (plan.result) {
    case 'created':
      return registerTopic(ctx, plan.body);
    case 'changed':
      return changeTopic(ctx, plan.topic, plan.patch, plan.unset);
    case 'unchanged':
      return plan.current;
  }
}
