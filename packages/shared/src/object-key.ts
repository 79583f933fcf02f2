/**
 * The S3 key grammar. Keys are a pure function of the range, its output spec and the time
 * bucket of the records, so a retry writes the same names (invariant 3). All times are UTC.
 *
 * Data objects:
 *
 *     {prefix}/{topic}/[dt=YYYY-MM-DD/[hr=HH/]]{topic}-{partition}-{start20}-{end20}.{ext}
 *
 *   - `{prefix}/` is left out when the prefix is empty.
 *   - `dt=`/`hr=` folders appear when the topic is partitioned by time (hour: both; day: `dt=` only).
 *   - `start20`/`end20` are the range's offsets zero-padded to 20 digits (end exclusive), so
 *     lexical order is offset order. One range may write one object per time bucket, all with
 *     the range's offsets in their names.
 *   - `ext` is `jsonl` or `txt` (raw), then `.gz` or `.zst` when compressed; `parquet` for
 *     Parquet (its codec is inside the file, so no suffix).
 *
 * Sluice's own records live under segments starting with `_`, which Hive, Spark, Trino and
 * Athena skip:
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
 * and the master's hour finalizer marks a complete time folder (time-partitioned topics only):
 *
 *     {prefix}/{topic}/dt=YYYY-MM-DD/[hr=HH/]_SUCCESS                                 folder marker
 *
 * Nothing else is written below `{prefix}/{topic}/`. Every name is built here and parsed back
 * here, so a writer and a reader of S3 cannot disagree on it (test/object-key.test.ts checks
 * each pair against the other).
 */
import { padOffset } from './offset-range.ts';
import type { Compression, Format, Granularity, OutputSpec, PartitionBy } from './topic-config.ts';

export function topicRoot(prefix: string, topic: string): string {
  return prefix ? `${prefix}/${topic}/` : `${topic}/`;
}

export function fileExtension(format: Format, compression: Compression): string {
  if (format === 'parquet') return 'parquet';
  const base = format === 'jsonl' ? 'jsonl' : 'txt';
  if (compression === 'gzip') return `${base}.gz`;
  if (compression === 'zstd') return `${base}.zst`;
  return base;
}

export function contentType(format: Format): string {
  if (format === 'parquet') return 'application/vnd.apache.parquet';
  return format === 'jsonl' ? 'application/x-ndjson' : 'text/plain; charset=utf-8';
}

/** `Content-Encoding` header value, or undefined for uncompressed objects. */
export function contentEncoding(compression: Compression, format?: Format): string | undefined {
  if (format === 'parquet') return undefined;
  if (compression === 'gzip') return 'gzip';
  if (compression === 'zstd') return 'zstd';
  return undefined;
}

/** The time bucket folder of a timestamp (ms since epoch, UTC), e.g. `dt=2026-11-25/hr=08/`, or `''`. */
export function bucketFolder(partitionBy: PartitionBy, timestampMs: number): string {
  if (partitionBy.kind === 'none') return '';
  return timeFolder(partitionBy.granularity, timestampMs);
}

export function timeFolder(granularity: Granularity, timestampMs: number): string {
  const d = new Date(timestampMs);
  if (Number.isNaN(d.getTime())) throw new RangeError(`timestamp out of range: ${timestampMs}`);
  const y = d.getUTCFullYear();
  if (y < 0 || y > 9999) throw new RangeError(`timestamp year ${y} outside 0000-9999: ${timestampMs}`);
  const dt = `dt=${String(y).padStart(4, '0')}-${String(d.getUTCMonth() + 1).padStart(2, '0')}-${String(d.getUTCDate()).padStart(2, '0')}/`;
  if (granularity === 'day') return dt;
  return `${dt}hr=${String(d.getUTCHours()).padStart(2, '0')}/`;
}

/**
 * The start (ms, UTC) of the span a time folder names (`dt=YYYY-MM-DD/hr=HH/` for `hour`,
 * `dt=YYYY-MM-DD/` for `day`): the inverse of {@link timeFolder}. Null when `folder` is not
 * one, or names a date that does not exist (`dt=2026-02-30/`, `hr=24/`).
 */
export function timeFolderStart(folder: string, granularity: Granularity): number | null {
  const m =
    granularity === 'hour'
      ? /^dt=(\d{4})-(\d{2})-(\d{2})\/hr=(\d{2})\/$/.exec(folder)
      : /^dt=(\d{4})-(\d{2})-(\d{2})\/$/.exec(folder);
  if (!m) return null;
  const d = new Date(0);
  d.setUTCFullYear(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  const t = d.getTime() + (granularity === 'hour' ? Number(m[4]) * 3_600_000 : 0);
  // Date() rolls impossible dates over (Feb 30 → Mar 2): only a folder that comes back as it went in is one.
  return timeFolder(granularity, t) === folder ? t : null;
}

export interface KeyParts {
  topic: string;
  partition: number;
  start: bigint;
  end: bigint;
}

/** The data object key of a range within one time bucket folder (from {@link bucketFolder}). */
export function dataObjectKey(spec: OutputSpec, range: KeyParts, folder: string): string {
  const ext = fileExtension(spec.format, spec.compression);
  return `${topicRoot(spec.destination.prefix, range.topic)}${folder}${range.topic}-${range.partition}-${padOffset(range.start)}-${padOffset(range.end)}.${ext}`;
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

/**
 * Parses a `_SUCCESS` marker key back (see {@link successMarkerKey}), or null when it is not
 * one: `root` is the topic folder, `folder` the time folder it marks (`dt=…/` or `dt=…/hr=…/`).
 */
export function parseSuccessMarkerKey(key: string): { root: string; folder: string } | null {
  const m = /^(.*\/)?(dt=\d{4}-\d{2}-\d{2}\/(?:hr=\d{2}\/)?)_SUCCESS$/.exec(key);
  if (!m) return null;
  return { root: m[1] ?? '', folder: m[2]! };
}

/**
 * The format and compression a data object key's extension names (see {@link fileExtension}),
 * or null when it has none of them.
 */
export function parseFileExtension(key: string): { format: Format; compression: Compression } | null {
  if (key.endsWith('.parquet')) return { format: 'parquet', compression: 'none' };
  const m = /\.(jsonl|txt)(\.gz|\.zst)?$/.exec(key);
  if (!m) return null;
  return {
    format: m[1] === 'jsonl' ? 'jsonl' : 'raw',
    compression: m[2] === '.gz' ? 'gzip' : m[2] === '.zst' ? 'zstd' : 'none',
  };
}

/** Parses a data object key's file name back into its range, or null when it is not one. */
export function parseDataObjectName(
  key: string,
): { topic: string; partition: number; start: bigint; end: bigint; folder: string } | null {
  const slash = key.lastIndexOf('/');
  const name = key.slice(slash + 1);
  const m = /^(.+)-(\d{1,10})-(\d{20})-(\d{20})\.(?:(jsonl|txt)(\.gz|\.zst)?|parquet)$/.exec(name);
  if (!m) return null;
  return {
    topic: m[1]!,
    partition: Number(m[2]),
    start: BigInt(m[3]!),
    end: BigInt(m[4]!),
    folder: key.slice(0, slash + 1),
  };
}
