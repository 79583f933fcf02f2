/**
 * The S3 key grammar. Keys are a pure function of the range, its output spec and the time
 * bucket (and field values, with field folders) of the records, so a retry writes the same
 * names (invariant 3). All times are UTC.
 *
 * Data objects, by default:
 *
 *     {prefix}/{topic}/[dt=YYYY-MM-DD/[hr=HH/]]{topic}-{partition}-{start20}-{end20}.{ext}
 *
 *   - `{prefix}/` is left out when the prefix is empty. The prefix may hold `{topic.N}`
 *     tokens, the topic name's parts split on `.` (0 first): `lake/{topic.0}` puts topic
 *     `sales.orders` under `lake/sales/sales.orders/` ({@link topicPrefix}).
 *   - `dt=`/`hr=` folders appear when the topic is partitioned by time (hour: both; day: `dt=` only).
 *   - `start20`/`end20` are the range's offsets zero-padded to 20 digits (end exclusive), so
 *     lexical order is offset order. One range may write one object per time bucket, all with
 *     the range's offsets in their names.
 *   - `ext` is `jsonl` or `txt` (raw), then `.gz` or `.zst` when compressed; `parquet` for
 *     Parquet (its codec is inside the file, so no suffix).
 *
 * A topic's `keyTemplate` (key-template.ts) changes what lies below `{prefix}/{topic}/`: the
 * time folders' style (`dt=…/hr=…/`, `year=…/month=…/day=…/hour=…/` or `YYYY/MM/DD/HH/`),
 * field folders after them (`tenant=acme/`, one object per time bucket and field value), and
 * the file name, which always holds `{partition}-{start20}-{end20}` so that
 * {@link parseDataObjectName} reads any key back without its template.
 *
 * Sluice's own records live under segments starting with `_`, which Hive, Spark, Trino and
 * Athena skip; they stay at the topic folder whatever the template:
 *
 *     {prefix}/{topic}/_sluice/commits/partition={partition}/{start20}-{end20}.json   range commit record
 *     {prefix}/{topic}/_sluice/probe/{id}                                              write probe
 *     {prefix}/{topic}/_sluice/abandoned/{name}.json                                  ranges a forced DELETE gave up
 *     {prefix}/{topic}/_sluice/config.json                                             topic config object
 *     {prefix}/{topic}/_sluice/rejected/partition={partition}/{start20}-{end20}.jsonl  a range's rejected records
 *
 * The master writes a probe object and deletes it at once when a topic is registered, its
 * destination changed or a dry run asked for, to prove it may write there; one can outlive a
 * crash between the two requests, and the audit ignores it.
 *
 * The master (re)writes the config object at registration and on every change of the topic:
 * the registered config, Kafka's topic id and every past destination, so that Sluice's state
 * can be rebuilt from S3 alone when ZooKeeper's data is lost (`sluice recover`). The audit
 * ignores it too.
 *
 * and the master's hour finalizer marks a complete time folder (time-partitioned topics only),
 * in the time style of the topic's template (field folders lie inside it):
 *
 *     {prefix}/{topic}/dt=YYYY-MM-DD/[hr=HH/]_SUCCESS                                 folder marker
 *
 * Nothing else is written below `{prefix}/{topic}/`. Every name is built here and parsed back
 * here, so a writer and a reader of S3 cannot disagree on it (test/object-key.test.ts checks
 * each pair against the other).
 */
import { ErrorCodes, SluiceError } from './errors.ts';
import { fieldAt } from './event-time.ts';
import { fieldLabel, type KeyLayout, keyLayoutOf, TIME_TOKENS, type TimeStyle } from './key-template.ts';
import { padOffset } from './offset-range.ts';
import type { Compression, Format, Granularity, OutputSpec, PartitionBy } from './topic-config.ts';

/** `{topic.N}` in a destination prefix: the topic name's part N, split on `.`. */
export const TOPIC_PART_TOKEN = /\{topic\.(\d{1,2})\}/g;

/**
 * The prefix with its `{topic.N}` tokens replaced by the topic name's parts. Registration
 * refuses a prefix whose parts the topic does not have (topic-config.ts), so a missing one
 * here is a hand-edited record.
 */
export function topicPrefix(prefix: string, topic: string): string {
  if (!prefix.includes('{')) return prefix;
  const parts = topic.split('.');
  return prefix.replace(TOPIC_PART_TOKEN, (token, n: string) => {
    const part = parts[Number(n)];
    if (part === undefined) {
      throw new SluiceError(
        ErrorCodes.INVARIANT,
        `destination.prefix ${token}: topic "${topic}" has ${parts.length} parts separated by "."; correct the prefix with PATCH`,
      );
    }
    return part;
  });
}

/** The topic folder `{prefix}/{topic}/`, prefix tokens replaced (see {@link topicPrefix}). */
export function topicRoot(prefix: string, topic: string): string {
  const p = topicPrefix(prefix, topic);
  return p ? `${p}/${topic}/` : `${topic}/`;
}

export function fileExtension(format: Format, compression: Compression): string {
  // An Avro container compresses inside (its codec): the file is `.avro` whatever the codec.
  if (format === 'avro') return 'avro';
  if (format === 'parquet') return 'parquet';
  const base = format === 'jsonl' ? 'jsonl' : 'txt';
  if (compression === 'gzip') return `${base}.gz`;
  if (compression === 'zstd') return `${base}.zst`;
  return base;
}

export function contentType(format: Format): string {
  if (format === 'avro') return 'application/avro';
  if (format === 'parquet') return 'application/vnd.apache.parquet';
  return format === 'jsonl' ? 'application/x-ndjson' : 'text/plain; charset=utf-8';
}

/** `Content-Encoding` header value, or undefined for uncompressed objects. */
export function contentEncoding(compression: Compression, format?: Format): string | undefined {
  if (format === 'avro') return undefined;
  if (format === 'parquet') return undefined;
  if (compression === 'gzip') return 'gzip';
  if (compression === 'zstd') return 'zstd';
  return undefined;
}

/** The time bucket folder of a timestamp (ms since epoch, UTC), e.g. `dt=2026-11-25/hr=08/`, or `''`. */
export function bucketFolder(
  partitionBy: PartitionBy,
  timestampMs: number,
  style: TimeStyle = 'hive-dt-hr',
): string {
  if (partitionBy.kind === 'none') return '';
  return timeFolder(partitionBy.granularity, timestampMs, style);
}

/** The time folder of a timestamp in a style: `dt=2026-11-25/hr=08/`, `year=2026/month=11/day=25/hour=08/`, `2026/11/25/08/`. */
export function timeFolder(
  granularity: Granularity,
  timestampMs: number,
  style: TimeStyle = 'hive-dt-hr',
): string {
  const d = new Date(timestampMs);
  if (Number.isNaN(d.getTime())) throw new RangeError(`timestamp out of range: ${timestampMs}`);
  const y = d.getUTCFullYear();
  if (y < 0 || y > 9999) throw new RangeError(`timestamp year ${y} outside 0000-9999: ${timestampMs}`);
  const two = (n: number) => String(n).padStart(2, '0');
  const values: Record<string, string> = {
    YYYY: String(y).padStart(4, '0'),
    MM: two(d.getUTCMonth() + 1),
    DD: two(d.getUTCDate()),
    HH: two(d.getUTCHours()),
  };
  const tokens =
    granularity === 'hour' ? [...TIME_TOKENS[style].day, TIME_TOKENS[style].hour] : TIME_TOKENS[style].day;
  let out = '';
  for (const t of tokens) out += `${t.replace(/YYYY|MM|DD|HH/g, (v) => values[v]!)}/`;
  return out;
}

/** Per style and granularity: a time folder as a pattern, capturing year, month, day[, hour]. */
function timeFolderPattern(style: TimeStyle, granularity: Granularity): string {
  const tokens =
    granularity === 'hour' ? [...TIME_TOKENS[style].day, TIME_TOKENS[style].hour] : TIME_TOKENS[style].day;
  return tokens.map((t) => `${t.replace(/YYYY/, '(\\d{4})').replace(/MM|DD|HH/g, '(\\d{2})')}/`).join('');
}

const TIME_STYLES = Object.keys(TIME_TOKENS) as TimeStyle[];
const TIME_FOLDER_RE = new Map<string, RegExp>();
function timeFolderRe(style: TimeStyle, granularity: Granularity): RegExp {
  const id = `${style} ${granularity}`;
  let re = TIME_FOLDER_RE.get(id);
  if (!re) {
    re = new RegExp(`^${timeFolderPattern(style, granularity)}`);
    TIME_FOLDER_RE.set(id, re);
  }
  return re;
}

/**
 * The time folder `folder` starts with, in any style, and what follows it: null when it starts
 * with none, or names a date that does not exist (`dt=2026-02-30/`, `hr=24/`).
 */
function leadingTimeFolder(folder: string, granularity: Granularity): { start: number; rest: string } | null {
  for (const style of TIME_STYLES) {
    const m = timeFolderRe(style, granularity).exec(folder);
    if (!m) continue;
    const d = new Date(0);
    d.setUTCFullYear(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
    const t = d.getTime() + (granularity === 'hour' ? Number(m[4]) * 3_600_000 : 0);
    // Date() rolls impossible dates over (Feb 30 → Mar 2): only a folder that comes back as it went in is one.
    if (timeFolder(granularity, t, style) !== m[0]) return null;
    return { start: t, rest: folder.slice(m[0].length) };
  }
  return null;
}

/**
 * The start (ms, UTC) of the span a time folder names (`dt=YYYY-MM-DD/hr=HH/` for `hour`,
 * `dt=YYYY-MM-DD/` for `day`, or the same in the other styles): the inverse of
 * {@link timeFolder}. Null when `folder` is not one, or names a date that does not exist.
 */
export function timeFolderStart(folder: string, granularity: Granularity): number | null {
  const t = leadingTimeFolder(folder, granularity);
  return t && t.rest === '' ? t.start : null;
}

const FIELD_FOLDER = /^[A-Za-z0-9_$-]+=[^/]+\/$/;

/**
 * The start of the time span of a data object's folder below the topic folder: a time folder
 * of `granularity` (any style) followed by nothing but field folders. Null otherwise (objects
 * written before a change of `partitionBy`, or of a topic not partitioned by time).
 */
export function timeUnitOfFolder(folder: string, granularity: Granularity): number | null {
  const t = leadingTimeFolder(folder, granularity);
  if (!t) return null;
  for (const seg of t.rest.match(/[^/]*\//g) ?? []) {
    if (!FIELD_FOLDER.test(seg) || /^(dt|hr|year|month|day|hour)=/.test(seg)) return null;
  }
  return t.start;
}

/** The folder value of a record whose field is missing, null, empty or not a string, number or boolean. */
export const FIELD_FALLBACK = '__null__';
/** Escaped values longer than this go to {@link FIELD_FALLBACK} too (S3 keys end at 1,024 bytes). */
export const FIELD_VALUE_MAX = 128;

const SAFE_VALUE = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/**
 * A field value as a folder name: letters, digits, `.`, `_` and `-` as they are, every other
 * UTF-8 byte as `%XX` (how Hive escapes partition values), so `=` and `/` cannot split the
 * folder and `.`/`..` cannot be a segment. Null when the value falls back.
 */
export function escapeFieldValue(value: unknown): string | null {
  let text: string;
  if (typeof value === 'string') text = value;
  else if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean')
    text = String(value);
  else return null;
  if (text === '') return null;
  // Most values (ids, names, event types) need no escaping: no per-byte work for them.
  if (text.length <= FIELD_VALUE_MAX && text !== FIELD_FALLBACK && SAFE_VALUE.test(text)) return text;
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(byte);
    out +=
      /[A-Za-z0-9_-]/.test(c) || (c === '.' && out !== '')
        ? c
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  // `__null__` itself is escaped, so a value can never pose as the fallback.
  if (out === FIELD_FALLBACK) out = `%5F${out.slice(1)}`;
  return out.length > FIELD_VALUE_MAX ? null : out;
}

/** Reads a layout's field folders out of a record's parsed JSON value. */
export class FieldFolders {
  readonly #fields: ReadonlyArray<{ label: string; path: readonly string[] }>;
  /** Field values that went to {@link FIELD_FALLBACK}, one per record and field. */
  fallbacks = 0;

  constructor(layout: KeyLayout) {
    this.#fields = layout.fields.map((f) => ({ label: fieldLabel(f), path: f.split('.') }));
  }

  get empty(): boolean {
    return this.#fields.length === 0;
  }

  /** `tenant=acme/kind=click/`: the field folders of a record (`parsedValue` undefined: not JSON). */
  folderOf(parsedValue: unknown): string {
    let out = '';
    for (const f of this.#fields) {
      const v = parsedValue === undefined ? undefined : escapeFieldValue(fieldAt(parsedValue, f.path));
      if (v === null || v === undefined) this.fallbacks++;
      out += `${f.label}=${v ?? FIELD_FALLBACK}/`;
    }
    return out;
  }
}

export interface KeyParts {
  topic: string;
  partition: number;
  start: bigint;
  end: bigint;
}

/** The file name of a range's objects, without extension (`{topic}-{partition}-{start20}-{end20}` by default). */
export function dataFileName(layout: KeyLayout, range: KeyParts): string {
  return layout.file.replace(/\{(topic|partition|start|end)\}/g, (_, t: string) =>
    t === 'topic'
      ? range.topic
      : t === 'partition'
        ? String(range.partition)
        : padOffset(t === 'start' ? range.start : range.end),
  );
}

/**
 * The data object key of a range within one folder below the topic folder: its time folder
 * (from {@link bucketFolder}) followed by its field folders ({@link FieldFolders}).
 * `schemaId`: Avro files hold records of one writer schema each; a range whose records change
 * schema writes one object per schema id, its file name followed by `-s{schemaId}.avro`.
 * `keySchemaId`: Parquet files of keys decoded by the registry hold one key schema each too
 * (their `__kafka_key` column is typed by it): `-s{schemaId}-k{keySchemaId}.parquet`.
 */
export function dataObjectKey(
  spec: OutputSpec,
  range: KeyParts,
  folder: string,
  schemaId?: number,
  keySchemaId?: number,
): string {
  const ext = fileExtension(spec.format, spec.compression);
  const schema = `${schemaId === undefined ? '' : `-s${schemaId}`}${keySchemaId === undefined ? '' : `-k${keySchemaId}`}`;
  return `${topicRoot(spec.destination.prefix, range.topic)}${folder}${dataFileName(keyLayoutOf(spec), range)}${schema}.${ext}`;
}

export function commitsFolder(prefix: string, topic: string, partition?: number): string {
  const base = `${topicRoot(prefix, topic)}_sluice/commits/`;
  return partition === undefined ? base : `${base}partition=${partition}/`;
}

/** The key of a range's commit record (manifest). */
export function commitRecordKey(prefix: string, range: KeyParts): string {
  return `${commitsFolder(prefix, range.topic, range.partition)}${padOffset(range.start)}-${padOffset(range.end)}.json`;
}

/** A range's own record below its topic folder, parsed back: `root` is the topic folder (`{prefix}/{topic}/`). */
export interface RangeRecordName {
  root: string;
  partition: number;
  start: bigint;
  end: bigint;
}

const COMMIT_RECORD_NAME = /^(.*\/)?_sluice\/commits\/partition=(\d{1,10})\/(\d{20})-(\d{20})\.json$/;
const REJECTED_OBJECT_NAME = /^(.*\/)?_sluice\/rejected\/partition=(\d{1,10})\/(\d{20})-(\d{20})\.jsonl$/;

function parseRangeRecordName(key: string, name: RegExp): RangeRecordName | null {
  const m = name.exec(key);
  if (!m) return null;
  return { root: m[1] ?? '', partition: Number(m[2]), start: BigInt(m[3]!), end: BigInt(m[4]!) };
}

/** Parses a commit record key back (see {@link commitRecordKey}), or null when it is not one. */
export function parseCommitRecordKey(key: string): RangeRecordName | null {
  return parseRangeRecordName(key, COMMIT_RECORD_NAME);
}

/**
 * The key of a range's rejected-records object: one JSON line per record the output format
 * could not take (offset, timestamp, reason, key and value as base64). Listed in the range's
 * commit record; the audit counts its records as accounted for.
 */
export function rejectedObjectKey(prefix: string, range: KeyParts): string {
  return `${topicRoot(prefix, range.topic)}_sluice/rejected/partition=${range.partition}/${padOffset(range.start)}-${padOffset(range.end)}.jsonl`;
}

/** Parses a rejected-records key back (see {@link rejectedObjectKey}), or null when it is not one. */
export function parseRejectedObjectKey(key: string): RangeRecordName | null {
  return parseRangeRecordName(key, REJECTED_OBJECT_NAME);
}

/** The key of a destination write probe; `id` makes it unique (no two probes share an object). */
export function probeKey(prefix: string, topic: string, id: string): string {
  return `${topicRoot(prefix, topic)}_sluice/probe/${id}`;
}

/**
 * The copy in S3 of what a forced DELETE abandoned (`AbandonedRecord`, also kept in ZooKeeper
 * under `abandonedPath`): beside the commit records, so an audit that has only the bucket
 * still learns why those offsets have none.
 */
export function abandonedRecordKey(prefix: string, topic: string, name: string): string {
  return `${abandonedFolder(prefix, topic)}${name}.json`;
}

export function abandonedFolder(prefix: string, topic: string): string {
  return `${topicRoot(prefix, topic)}_sluice/abandoned/`;
}

/** True when the key is a record of abandoned ranges of the topic folder `root`. */
export function isAbandonedKey(key: string, root: string): boolean {
  return key.startsWith(`${root}_sluice/abandoned/`) && key.endsWith('.json');
}

/** True when the key is a write probe (see {@link probeKey}) of the topic folder `root`. */
export function isProbeKey(key: string, root: string): boolean {
  return key.startsWith(`${root}_sluice/probe/`);
}

/** The key of a topic's config object (see the file comment). */
export function configObjectKey(prefix: string, topic: string): string {
  return `${topicRoot(prefix, topic)}_sluice/config.json`;
}

/**
 * Parses a config object key back (see {@link configObjectKey}), or null when it is not one:
 * `root` is the topic folder (`{prefix}/{topic}/`), `prefix` and `topic` its two parts.
 */
export function parseConfigObjectKey(key: string): { root: string; prefix: string; topic: string } | null {
  const m = /^(?:(.*)\/)?([^/]+)\/_sluice\/config\.json$/.exec(key);
  if (!m) return null;
  const prefix = m[1] ?? '';
  return { root: topicRoot(prefix, m[2]!), prefix, topic: m[2]! };
}

/** The name of the file that marks a time folder complete. */
export const SUCCESS_MARKER = '_SUCCESS';

/** The `_SUCCESS` marker of a time folder (from {@link timeFolder}) of a topic. */
export function successMarkerKey(prefix: string, topic: string, folder: string): string {
  return `${topicRoot(prefix, topic)}${folder}${SUCCESS_MARKER}`;
}

const MARKER_RE = new RegExp(
  `^(.*/)?(${TIME_STYLES.map(
    (s) =>
      `${timeFolderPattern(s, 'day')}(?:${timeFolderPattern(s, 'hour').slice(timeFolderPattern(s, 'day').length)})?`,
  )
    .join('|')
    .replace(/\((?!\?)/g, '(?:')})_SUCCESS$`,
);

/**
 * Parses a `_SUCCESS` marker key back (see {@link successMarkerKey}), or null when it is not
 * one: `root` is the topic folder, `folder` the time folder it marks (`dt=…/`, `dt=…/hr=…/`,
 * or the same in another style).
 */
export function parseSuccessMarkerKey(key: string): { root: string; folder: string } | null {
  const m = MARKER_RE.exec(key);
  if (!m) return null;
  return { root: m[1] ?? '', folder: m[2]! };
}

/**
 * The format and compression a data object key's extension names (see {@link fileExtension}),
 * or null when it has none of them.
 */
export function parseFileExtension(key: string): { format: Format; compression: Compression } | null {
  if (key.endsWith('.avro')) return { format: 'avro', compression: 'none' };
  if (key.endsWith('.parquet')) return { format: 'parquet', compression: 'none' };
  const m = /\.(jsonl|txt)(\.gz|\.zst)?$/.exec(key);
  if (!m) return null;
  return {
    format: m[1] === 'jsonl' ? 'jsonl' : 'raw',
    compression: m[2] === '.gz' ? 'gzip' : m[2] === '.zst' ? 'zstd' : 'none',
  };
}

/**
 * Parses a data object key's file name back into its range, or null when it is not one: any
 * template's name holds `{partition}-{start20}-{end20}` with no digit beside it (key-template.ts),
 * so the last such group is the range. `folder` is everything before the name.
 */
export function parseDataObjectName(
  key: string,
): { partition: number; start: bigint; end: bigint; folder: string } | null {
  const slash = key.lastIndexOf('/');
  const name = key.slice(slash + 1);
  // Avro files add `-s{schemaId}` after the name, which the tail after `{end}` allows.
  const m =
    /^(?:.*[^0-9])?(\d{1,10})-(\d{20})-(\d{20})(?:[^0-9].*)?\.(?:(?:jsonl|txt)(?:\.gz|\.zst)?|avro|parquet)$/.exec(
      name,
    );
  if (!m || name.startsWith('_')) return null;
  if (m[1]!.length > 1 && m[1]!.startsWith('0')) return null;
  return {
    partition: Number(m[1]),
    start: BigInt(m[2]!),
    end: BigInt(m[3]!),
    folder: key.slice(0, slash + 1),
  };
}
