/**
 * The language of a topic's `keyTemplate`: which folders lie between the topic folder and a
 * data object, and what the object's file is called. Pure. object-key.ts builds and parses the
 * keys; this file only reads a template and refuses the ones keys could not be parsed back
 * from, so the refusal happens at registration (a 400 naming the token), never in a worker.
 *
 *     keyTemplate  = { folder "/" } file
 *     folder       = time token | "{field:" dotted path "}"
 *     time tokens  = {dt=YYYY-MM-DD} [/{hr=HH}]                         hive-dt-hr (today's layout)
 *                  | {year=YYYY}/{month=MM}/{day=DD} [/{hour=HH}]       hive-ymdh
 *                  | {YYYY}/{MM}/{DD} [/{HH}]                           plain
 *     file         = letters, digits, ".", "_", "=", "-" and the tokens {topic}, {partition},
 *                    {start}, {end}; the extension (`.jsonl.gz`, …) is appended
 *
 * Rules, each a refusal naming the token:
 *   - `{partition}-{start}-{end}` appears in the file name once, in that order, joined by `-`,
 *     with no digit (nor `{topic}`, which may end in one) just before or after it: every key
 *     then parses back to its range without knowing its template (the audit reads ranges
 *     planned under older templates too), and keys stay a pure function of the range.
 *   - Time folders come first, all of one style, complete for the granularity (`hour` needs
 *     the hour token, `day` refuses it); a topic with `partitionBy: none` has none, a
 *     time-partitioned one must have them (records of two hours would share an object).
 *   - Field folders come after the time folders, so a time folder holds every field value
 *     under it and one `_SUCCESS` per time folder still means "complete". At most
 *     {@link MAX_FIELD_FOLDERS}; each becomes `{label}={value}/` with the path's dots as `_`.
 *   - No literal folders: fixed folders belong in `destination.prefix`.
 *
 * Absent `keyTemplate`: today's layout, `{dt=YYYY-MM-DD}/{hr=HH}/{topic}-{partition}-{start}-{end}`
 * with the time folders the topic's `partitionBy` asks for ({@link DEFAULT_KEY_LAYOUT}).
 */
import { ErrorCodes, SluiceError } from './errors.ts';
import type { PartitionBy } from './topic-config.ts';

export type TimeStyle = 'hive-dt-hr' | 'hive-ymdh' | 'plain';

/** A template read: what object-key.ts needs to build a key. */
export interface KeyLayout {
  /** Style of the time folders (unused when the topic is not partitioned by time). */
  time: TimeStyle;
  /** Dotted paths of the field folders, outermost first. */
  fields: readonly string[];
  /** The file name template, without extension. */
  file: string;
}

export const DEFAULT_FILE_TEMPLATE = '{topic}-{partition}-{start}-{end}';
export const DEFAULT_KEY_LAYOUT: KeyLayout = { time: 'hive-dt-hr', fields: [], file: DEFAULT_FILE_TEMPLATE };
export const MAX_FIELD_FOLDERS = 3;
export const KEY_TEMPLATE_MAX_LENGTH = 512;

/** Per style: the tokens of a day folder, then the hour token. */
export const TIME_TOKENS: Record<TimeStyle, { day: readonly string[]; hour: string }> = {
  'hive-dt-hr': { day: ['dt=YYYY-MM-DD'], hour: 'hr=HH' },
  'hive-ymdh': { day: ['year=YYYY', 'month=MM', 'day=DD'], hour: 'hour=HH' },
  plain: { day: ['YYYY', 'MM', 'DD'], hour: 'HH' },
};

/** Field folder labels that read as time folders (parsing a key back could not tell them apart). */
const RESERVED_LABELS = new Set(['dt', 'hr', 'year', 'month', 'day', 'hour']);

/** The folder name of a field path: `tenant` → `tenant`, `event.type` → `event_type`. */
export function fieldLabel(path: string): string {
  return path.replaceAll('.', '_');
}

function styleOf(token: string): TimeStyle | null {
  for (const [style, t] of Object.entries(TIME_TOKENS) as [TimeStyle, (typeof TIME_TOKENS)[TimeStyle]][]) {
    if (t.day.includes(token) || t.hour === token) return style;
  }
  return null;
}

/** A problem of a template, naming the token (or segment) it is about. */
export interface KeyTemplateProblem {
  token: string;
  message: string;
}

function refuse(token: string, message: string): KeyTemplateProblem {
  return { token, message: `${token}: ${message}` };
}

const FILE_PART = /\{([^{}]*)\}|([^{}]+)|([{}])/g;
const FILE_TOKENS = new Set(['topic', 'partition', 'start', 'end']);
const OFFSETS = '{partition}-{start}-{end}';

function fileProblem(file: string): KeyTemplateProblem | null {
  for (const m of file.matchAll(FILE_PART)) {
    if (m[3] !== undefined) return refuse(file, `unbalanced "${m[3]}" in the file name`);
    if (m[1] !== undefined && !FILE_TOKENS.has(m[1])) {
      return refuse(
        `{${m[1]}}`,
        'unknown token in the file name: it may use {topic}, {partition}, {start} and {end} (folders go before the last "/")',
      );
    }
    if (m[2] !== undefined && !/^[A-Za-z0-9._=-]+$/.test(m[2])) {
      return refuse(m[2], 'the file name may hold only letters, digits, ".", "_", "=", "-" and tokens');
    }
  }
  const at = file.indexOf(OFFSETS);
  const missing = ['{partition}', '{start}', '{end}'].find((t) => !file.includes(t));
  if (missing || at < 0) {
    return refuse(
      missing ?? file,
      `the file name must keep ${OFFSETS} (in that order, joined by "-") so that keys stay a pure function of the range, e.g. "${DEFAULT_FILE_TEMPLATE}"`,
    );
  }
  for (const t of ['{partition}', '{start}', '{end}']) {
    if (file.indexOf(t) !== file.lastIndexOf(t)) return refuse(t, 'appears twice in the file name');
  }
  const before = file.slice(0, at);
  const after = file.slice(at + OFFSETS.length);
  if (/[0-9]$/.test(before) || before.endsWith('{topic}')) {
    return refuse(
      '{partition}',
      'must not follow a digit or {topic} directly (keys would not parse back): put a separator such as "-" before it',
    );
  }
  if (/^[0-9]/.test(after) || after.startsWith('{')) {
    return refuse(
      '{end}',
      'must not be followed by a digit or a token directly: put a separator such as "-" after it',
    );
  }
  if (file.startsWith('_') || file.startsWith('.')) {
    return refuse(
      file,
      'the file name must not start with "_" or "." (Hive, Spark and Athena skip such files)',
    );
  }
  return null;
}

/**
 * Reads a template against the topic's `partitionBy`: its layout, or the first problem
 * (`token` names what to fix, `message` says how).
 */
export function parseKeyTemplate(template: string, partitionBy: PartitionBy): KeyLayout | KeyTemplateProblem {
  if (template.length === 0 || template.length > KEY_TEMPLATE_MAX_LENGTH) {
    return refuse(
      JSON.stringify(template.slice(0, 40)),
      `must be 1 to ${KEY_TEMPLATE_MAX_LENGTH} characters`,
    );
  }
  const segments = template.split('/');
  const file = segments.pop()!;
  let time: TimeStyle | null = null;
  const timeTokens: string[] = [];
  const fields: string[] = [];
  for (const seg of segments) {
    const m = /^\{([^{}]+)\}$/.exec(seg);
    if (!m) {
      return refuse(
        seg === '' ? '//' : seg,
        'each folder must be one token such as {dt=YYYY-MM-DD} or {field:tenant}; fixed folders belong in destination.prefix',
      );
    }
    const token = m[1]!;
    if (token.startsWith('field:')) {
      const path = token.slice('field:'.length);
      if (!/^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/.test(path) || path.length > 256) {
        return refuse(seg, 'must name a dotted path of field names of the JSON value, e.g. {field:tenant}');
      }
      if (RESERVED_LABELS.has(fieldLabel(path))) {
        return refuse(
          seg,
          `the folder label "${fieldLabel(path)}" reads as a time folder; nest the field or rename it`,
        );
      }
      if (fields.some((f) => fieldLabel(f) === fieldLabel(path))) {
        return refuse(seg, `a second folder labelled "${fieldLabel(path)}"`);
      }
      fields.push(path);
      if (fields.length > MAX_FIELD_FOLDERS) {
        return refuse(
          seg,
          `at most ${MAX_FIELD_FOLDERS} field folders (each multiplies the objects of a range)`,
        );
      }
      continue;
    }
    const style = styleOf(token);
    if (style === null) {
      return refuse(
        seg,
        'unknown token: folders are {dt=YYYY-MM-DD}/{hr=HH}, {year=YYYY}/{month=MM}/{day=DD}/{hour=HH}, {YYYY}/{MM}/{DD}/{HH} or {field:PATH}',
      );
    }
    if (fields.length > 0) {
      return refuse(
        seg,
        'time folders must come before field folders, so that one _SUCCESS marks a whole time folder',
      );
    }
    if (time !== null && style !== time) {
      return refuse(seg, `two time folder styles ({${timeTokens[0]}} and ${seg}): use one`);
    }
    time = style;
    timeTokens.push(token);
  }
  const fp = fileProblem(file);
  if (fp) return fp;
  if (partitionBy.kind === 'none') {
    if (time !== null) {
      return refuse(
        `{${timeTokens[0]}}`,
        'time folders need partitionBy kind "kafka-time" or "event-time"; remove them or partition the topic by time',
      );
    }
    return { time: 'hive-dt-hr', fields, file };
  }
  const g = partitionBy.granularity;
  if (time === null) {
    return refuse(
      template,
      `partitionBy granularity "${g}" needs time folders first, e.g. {dt=YYYY-MM-DD}${g === 'hour' ? '/{hr=HH}' : ''}, or partitionBy kind "none"`,
    );
  }
  const want = g === 'hour' ? [...TIME_TOKENS[time].day, TIME_TOKENS[time].hour] : [...TIME_TOKENS[time].day];
  if (timeTokens.join('/') !== want.join('/')) {
    const shown = want.map((t) => `{${t}}`).join('/');
    return refuse(
      timeTokens.map((t) => `{${t}}`).join('/'),
      `granularity "${g}" in this style needs exactly ${shown}${g === 'day' ? ' (no hour folder)' : ''}`,
    );
  }
  return { time, fields, file };
}

/** The layout of a spec: its template read, or today's layout when it has none. */
export function keyLayoutOf(spec: { keyTemplate?: string | undefined; partitionBy: PartitionBy }): KeyLayout {
  if (spec.keyTemplate === undefined) return DEFAULT_KEY_LAYOUT;
  const layout = parseKeyTemplate(spec.keyTemplate, spec.partitionBy);
  // Templates are checked at registration and on every change: this is a hand-edited record.
  if ('message' in layout) {
    throw new SluiceError(
      ErrorCodes.INVARIANT,
      `keyTemplate ${layout.message}; the stored topic (or range) holds a template registration refuses: correct it with PATCH`,
    );
  }
  return layout;
}
