/**
 * Pure: a topic-pattern request → the PatternRecord to store. A pattern's settings are checked
 * as a registration's would be (topic-request.ts), with the pattern's name standing in for the
 * topic, so that a pattern the API accepts cannot fail every registration it later makes for a
 * reason known now. Every problem of the request is reported at once, `settings.` paths for the
 * settings.
 */
import {
  isSluiceError,
  type Problem,
  type TopicConfig,
  topicPatternProblems,
  ValidationError,
} from '@sluice/shared';
import type { PatternCreateBody, PatternPatchBody } from '../api/pattern-schemas.ts';
import type { PatternRecord, PatternSettings } from '../stores/pattern-store.ts';
import { type RangeMinimums, refuseTinyRanges, topicConfigFromBody } from './topic-request.ts';

/** Problems of `run`'s ValidationError, with `prefix` before each path; other errors pass. */
function problemsOf(run: () => void, prefix: string): Problem[] {
  try {
    run();
    return [];
  } catch (err) {
    if (!(isSluiceError(err) && err instanceof ValidationError)) throw err;
    return err.problems.map((p) => ({ path: `${prefix}${p.path}`, message: p.message }));
  }
}

/**
 * The topic config the settings give a topic named `topic`, or the problems of the settings.
 * The `offsets` form of `startFrom` names one topic's partitions and offsets: refused.
 */
export function patternSettingsCheck(
  settings: PatternSettings,
  topic: string,
  mins: RangeMinimums,
): { config: TopicConfig | null; problems: Problem[] } {
  const problems: Problem[] = [];
  const startFrom = settings.startFrom;
  if (typeof startFrom === 'object' && 'offsets' in startFrom) {
    problems.push({
      path: 'settings.startFrom',
      message:
        'must not be the "offsets" form: offsets belong to one topic; use "earliest", "latest", { "timestamp": … } or { "consumerGroup": … }, or register that topic by name',
    });
  }
  problems.push(...problemsOf(() => refuseTinyRanges(settings, mins), 'settings.'));
  const configs: TopicConfig[] = [];
  // The name stands in for the topic; a bad name is reported at `name`, not here again.
  const configProblems = problemsOf(
    () => configs.push(topicConfigFromBody({ ...settings, topic })),
    'settings.',
  );
  problems.push(...configProblems.filter((p) => p.path !== 'settings.topic'));
  const config = configs[0] ?? null;
  return { config: problems.length === 0 ? config : null, problems };
}

/** A new pattern: its expressions and its settings checked, nothing deleted yet. */
export function newPatternRecord(
  body: PatternCreateBody,
  mins: RangeMinimums,
  now: Date,
): { record: PatternRecord; config: TopicConfig } {
  const problems = topicPatternProblems(body);
  const checked = patternSettingsCheck(body.settings, body.name, mins);
  problems.push(...checked.problems);
  if (problems.length > 0 || !checked.config) throw new ValidationError(problems);
  const at = now.toISOString();
  const record: PatternRecord = {
    name: body.name,
    pattern: body.pattern,
    exclude: [...(body.exclude ?? [])],
    deletedTopics: [],
    settings: body.settings,
    createdAt: at,
    updatedAt: at,
  };
  return { record, config: checked.config };
}

/** The pattern after a PATCH (the settings checked again when they change). */
export function patchedPatternRecord(
  record: PatternRecord,
  patch: PatternPatchBody,
  mins: RangeMinimums,
  now: Date,
): { record: PatternRecord; config: TopicConfig | null } {
  const next: PatternRecord = {
    ...record,
    ...(patch.exclude ? { exclude: [...patch.exclude] } : {}),
    ...(patch.deletedTopics ? { deletedTopics: [...new Set(patch.deletedTopics)].sort() } : {}),
    ...(patch.settings ? { settings: patch.settings } : {}),
    updatedAt: now.toISOString(),
  };
  const problems = topicPatternProblems({ pattern: next.pattern, exclude: next.exclude });
  const checked = patch.settings ? patternSettingsCheck(patch.settings, record.name, mins) : null;
  if (checked) problems.push(...checked.problems);
  if (problems.length > 0) throw new ValidationError(problems);
  return { record: next, config: checked?.config ?? null };
}
