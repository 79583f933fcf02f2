/**
 * A registered topic's configuration: where its data goes and how it is cut and written.
 *
 * The output-affecting part ({@link OutputSpec}) is snapshotted into every planned range, so
 * that a range's objects are a pure function of the range and that snapshot (invariant 3):
 * a policy change applies to ranges planned after it, never to a range already planned.
 */
import type { Problem } from './errors.ts';
import type { EventTimeUnit } from './event-time.ts';
import { schemaProblems as inlineSchemaProblems, type TopicSchema } from './inline-schema.ts';
import { parseKeyTemplate } from './key-template.ts';
import { offsetProblem } from './offset-range.ts';

export type Format = 'jsonl' | 'raw' | 'avro' | 'parquet';
/**
 * Of the whole object for `jsonl` and `raw`; for `parquet` and `avro` the codec inside the file.
 * `snappy` is Parquet's only; `deflate` is Avro's container codec only (for `avro`, `gzip` is
 * stored as `deflate`, the same algorithm).
 */
export type Compression = 'gzip' | 'zstd' | 'snappy' | 'none' | 'deflate';
/**
 * Where the structure of records comes from. `registry` (format `avro`): values are in the
 * Confluent wire format (magic byte 0, 4-byte schema id, payload) and their writer schemas come
 * from the Schema Registry at SLUICE_SCHEMA_REGISTRY_URL. `inline` (format `parquet`): JSON
 * values mapped onto the declared columns (inline-schema.ts).
 */
export type SchemaSpec = { source: 'registry'; key?: boolean } | TopicSchema;
export type Granularity = 'hour' | 'day';
export type PartitionBy =
  | { kind: 'none' }
  | { kind: 'kafka-time'; granularity: Granularity }
  | {
      kind: 'event-time';
      field: string;
      granularity: Granularity;
      /**
       * How the field's value is read (event-time.ts). Absent: epoch milliseconds or ISO-8601
       * text, as before units existed (and in ranges planned before).
       */
      unit?: EventTimeUnit;
    };
/** Where a partition starts when nothing more precise applies: its log start or its end. */
export type StartPosition = 'earliest' | 'latest';
/**
 * Where partitions present at registration start (those without commit records of this topic
 * in the destination: topic-resume.ts). The object forms take over from an earlier pipeline;
 * the registration resolves them to one offset per partition, stored in the record's `starts`,
 * so that the leader's planning never asks again (a restart, a new leader, the group moving on).
 */
export type StartFrom = StartPosition | StartFromOffsets | StartFromTimestamp | StartFromConsumerGroup;

/** Offsets named per partition; the others start at `fallback`. */
export interface StartFromOffsets {
  /** Partition number (decimal text) → the first offset to copy (decimal text). */
  offsets: Record<string, string>;
  /** Partitions not named. @defaultValue `earliest` */
  fallback?: StartPosition;
  /** An offset outside `[log start, high watermark]`: refused, or moved to the nearer end. @defaultValue `refuse` */
  outOfRange?: 'refuse' | 'clamp';
}

/** Per partition the first offset whose record timestamp is at or after this time (ListOffsets). */
export interface StartFromTimestamp {
  /** Epoch milliseconds, or ISO-8601 text with a date and time. */
  timestamp: number | string;
}

/** The committed offsets of a Kafka consumer group (the pipeline Sluice replaces). */
export interface StartFromConsumerGroup {
  consumerGroup: string;
  /** Partitions the group committed nothing for. @defaultValue `earliest` */
  fallback?: StartPosition;
}

/** How a partition's start was decided when `startFrom` is one of the object forms. */
export type ResolvedBy = 'offsets' | 'offsets-clamped' | 'timestamp' | 'consumerGroup' | 'fallback';
export type ServerSideEncryption = 'none' | 'AES256' | 'aws:kms';

export interface Destination {
  bucket: string;
  /** Key prefix without leading or trailing `/`; may be empty. */
  prefix: string;
}

/** What decides the bytes and names of a range's objects. Stored with every range. */
export interface OutputSpec {
  destination: Destination;
  format: Format;
  compression: Compression;
  /**
   * The codec's level ({@link COMPRESSION_LEVELS}); absent for the codec's default, and in
   * ranges planned before the setting existed. Never with `compression: "none"`.
   */
  compressionLevel?: number;
  /**
   * `parquet`: the encoding revision the range was planned with ({@link PARQUET_ENCODING});
   * stored in range snapshots only, never in a topic's configuration. Absent: revision 1, the
   * encoding of ranges planned before revisions existed, so that their retries write the same
   * bytes (invariant 3).
   */
  parquetEncoding?: number;
  partitionBy: PartitionBy;
  serverSideEncryption: ServerSideEncryption;
  /** Only with `serverSideEncryption: "aws:kms"`; empty for the account's default key. */
  kmsKeyId: string;
  /** S3 storage class, e.g. `STANDARD`, `STANDARD_IA`, `INTELLIGENT_TIERING`. */
  storageClass: string;
  /** Required by `avro` (registry) and `parquet` (inline); absent for formats that write records as they are. */
  schema?: SchemaSpec;
  /**
   * The folders and file name below the topic folder (key-template.ts), e.g.
   * `{year=YYYY}/{month=MM}/{day=DD}/{hour=HH}/{field:tenant}/{topic}-{partition}-{start}-{end}`.
   * Absent: today's layout (`dt=`/`hr=` folders as `partitionBy` asks, `{topic}-{partition}-{start}-{end}`).
   */
  keyTemplate?: string;
}

export interface RangePolicy {
  /** Most records (offsets) in one range. @defaultValue 5,000,000 */
  maxRangeMessages: number;
  /** About this many uncompressed bytes in one range, estimated from records seen. @defaultValue 256 MiB */
  maxRangeBytes: number;
  /** Cut a shorter range once the oldest unplanned record has waited this long. @defaultValue 10 minutes */
  flushIntervalMs: number;
}

export interface TopicConfig extends OutputSpec, RangePolicy {
  topic: string;
  startFrom: StartFrom;
  /**
   * Time-partitioned topics: how long after an hour (or day) ends its folder is finalized
   * (`_SUCCESS` written), once every partition has committed records that much newer, or has
   * been idle that long. Records for a finalized folder that arrive later are late data.
   * Optional in the type: records stored before this setting existed lack it; read it with
   * {@link DEFAULT_FINALIZE_LATENESS_MS} as the default. New registrations always store it.
   * @defaultValue 10 minutes
   */
  finalizeLatenessMs?: number;
  /**
   * The Kafka consumer group the topic's committed offsets are mirrored into (see
   * {@link mirrorGroupOf}): absent for the default name (SLUICE_MIRROR_GROUP_PREFIX and the
   * topic's name), `null` for no mirroring of this topic.
   */
  mirrorGroup?: string | null;
}

/** Where a topic's mirror group comes from when its config names none, and the off switch. */
export interface MirrorGroupSettings {
  /** SLUICE_MIRROR_GROUP_OFFSETS: false writes no group at all. */
  mirrorGroupOffsets: boolean;
  /** SLUICE_MIRROR_GROUP_PREFIX */
  mirrorGroupPrefix: string;
}

/** The consumer group a topic's committed offsets are mirrored into, or null when they are not. */
export function mirrorGroupOf(
  cfg: Pick<TopicConfig, 'topic' | 'mirrorGroup'>,
  settings: MirrorGroupSettings,
): string | null {
  if (!settings.mirrorGroupOffsets || cfg.mirrorGroup === null) return null;
  return cfg.mirrorGroup ?? `${settings.mirrorGroupPrefix}${cfg.topic}`;
}

/** `finalizeLatenessMs` of topics that do not set it (and of records stored before it existed). */
export const DEFAULT_FINALIZE_LATENESS_MS = 10 * 60 * 1000;

/** The stored form in ZooKeeper: the config plus what Sluice learned and decided. */
export interface TopicRecord extends TopicConfig {
  /** Kafka's topic id when registered; a different id means the topic was re-created. */
  topicId: string;
  paused: boolean;
  /** `active`; `stopped` after an unrecoverable problem (see `error`); `deleting` after DELETE. */
  state: 'active' | 'stopped' | 'deleting';
  error: string | null;
  createdAt: string;
  updatedAt: string;
  /**
   * The registration's `resume` (false: every partition started where `startFrom` says,
   * whatever commit records the destination held). Absent in records stored before it existed.
   */
  resume?: boolean;
  /**
   * Where each partition present at registration starts, decided at registration: `resumed`
   * ones after the commit records an earlier registration of this topic id left in the
   * destination (the leader starts them there instead of where `startFrom` says); the others
   * per `startFrom` (for `latest`, the last stable offset as of the registration: the leader
   * takes it when it first plans). Absent in records stored before it existed.
   */
  starts?: PartitionStart[];
  /**
   * Set by `DELETE …?force=true` (with `state: deleting`): the leader abandons the ranges in
   * flight instead of waiting for them, and records them (`AbandonedRecord`). Absent otherwise.
   */
  forcedAt?: string;
  /**
   * Every destination the topic wrote to before its current one, oldest first, appended when a
   * change moves the destination: its commit records stay the topic's past, which resume, the
   * audit and recovery read. Absent in records stored before it existed (and while empty).
   */
  pastDestinations?: PastDestination[];
  /** The topic pattern that registered the topic (topic-pattern.ts); absent for one registered by name. */
  pattern?: string;
}

/** A destination a topic left (see {@link TopicRecord.pastDestinations}). */
export interface PastDestination extends Destination {
  /** When the topic started writing there (its registration, or the change that moved it there). */
  since: string;
  /** When a change moved the topic away from it. */
  until: string;
}

function sameDestination(a: Destination, b: Destination): boolean {
  return a.bucket === b.bucket && a.prefix === b.prefix;
}

/**
 * The record's past destinations after a change that moves it from `record.destination` to
 * `next` at `now`: the one left is appended (with when the topic had written there since),
 * unless the destination did not change.
 */
export function pastDestinationsAfter(
  record: Pick<TopicRecord, 'destination' | 'pastDestinations' | 'createdAt'>,
  next: Destination,
  now: string,
): PastDestination[] {
  const past = record.pastDestinations ?? [];
  if (sameDestination(record.destination, next)) return past;
  const since = past.length > 0 ? past[past.length - 1]!.until : record.createdAt;
  return [...past, { ...record.destination, since, until: now }];
}

/**
 * Every destination that may hold the topic's commit records: the current one first, then the
 * past ones newest first, each once.
 */
export function destinationsOf(record: Pick<TopicRecord, 'destination' | 'pastDestinations'>): Destination[] {
  const out: Destination[] = [{ ...record.destination }];
  for (const d of [...(record.pastDestinations ?? [])].reverse()) {
    if (!out.some((o) => sameDestination(o, d))) out.push({ bucket: d.bucket, prefix: d.prefix });
  }
  return out;
}

/** Where one partition starts (see {@link TopicRecord.starts}). */
export interface PartitionStart {
  partition: number;
  startOffset: string;
  resumed: boolean;
  /**
   * With `resume: false` only, for partitions that had them: the end of the contiguous commit
   * records of this topic id the registration did not resume after (the audit reports what was
   * written twice or skipped from it).
   */
  commitRecordsEnd?: string;
  /**
   * Set when `startFrom` is one of the object forms and the partition did not resume: what
   * decided `startOffset` (`fallback`: the form's `fallback`, for a partition it did not name
   * or the group committed nothing for).
   */
  resolvedBy?: ResolvedBy;
}

/** The offset a partition resumes at after commit records of an earlier registration, if it does. */
export function resumeOffsetOf(record: Pick<TopicRecord, 'starts'>, partition: number): string | undefined {
  const s = record.starts?.find((x) => x.partition === partition);
  return s?.resumed ? s.startOffset : undefined;
}

/**
 * Where the leader starts a partition present at registration when the registration fixed it:
 * after commit records (`resumed`), or as an object form of `startFrom` resolved it. Undefined
 * when it starts per `earliest`/`latest` as the leader finds them.
 */
export function fixedStartOf(record: Pick<TopicRecord, 'starts'>, partition: number): string | undefined {
  const s = record.starts?.find((x) => x.partition === partition);
  return s && (s.resumed || s.resolvedBy !== undefined) ? s.startOffset : undefined;
}

/**
 * `startFrom` as stored: the object forms with their defaults written out (`fallback`,
 * `outOfRange`), so that the record, its GET and the registration answer say the same.
 */
export function normalizeStartFrom(startFrom: StartFrom): StartFrom {
  if (typeof startFrom === 'string' || 'timestamp' in startFrom) return startFrom;
  if ('offsets' in startFrom) {
    return {
      offsets: { ...startFrom.offsets },
      fallback: startFrom.fallback ?? 'earliest',
      outOfRange: startFrom.outOfRange ?? 'refuse',
    };
  }
  return { consumerGroup: startFrom.consumerGroup, fallback: startFrom.fallback ?? 'earliest' };
}

/** `earliest` or `latest`: for the object forms, the position of partitions they do not decide. */
export function startPositionOf(startFrom: StartFrom): StartPosition {
  if (typeof startFrom === 'string') return startFrom;
  return 'timestamp' in startFrom ? 'earliest' : (startFrom.fallback ?? 'earliest');
}

/** Kafka's partition numbers are int32: the decimal text of 0 to 2^31 - 1, without leading zeros. */
export function partitionKeyProblem(key: string): string | null {
  if (/^(0|[1-9]\d{0,9})$/.test(key) && Number(key) <= 2 ** 31 - 1) return null;
  return `must name a partition as a decimal number from 0 to 2147483647 without leading zeros, got ${JSON.stringify(key.length > 20 ? `${key.slice(0, 20)}…` : key)}`;
}

/** Epoch ms of a `startFrom.timestamp`, or a problem: a whole number, or ISO-8601 with a date and time. */
export function startTimestampMs(value: number | string): number | string {
  const maxMs = 8_640_000_000_000_000; // the last instant a JavaScript Date holds
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value) && value >= 0 && value <= maxMs) return value;
    return `must be epoch milliseconds (a whole number from 0) or ISO-8601 text, got ${value}`;
  }
  const iso = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+-]\d{2}:\d{2})?$/i.exec(
    value,
  );
  const ms = iso ? Date.parse(`${iso[1]}T${iso[2]}${iso[3] ?? 'Z'}`) : Number.NaN;
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
  return `must be epoch milliseconds or ISO-8601 text with a date and a time (e.g. "2026-01-31T12:00:00Z"; without a zone it is UTC), got ${JSON.stringify(shown)}`;
}

/**
 * A consumer group Sluice starts from (reads). Kafka accepts almost any group id, and the old
 * pipeline's may use any of them; a registration takes one a person can type and read: 1 to
 * 255 characters, no control or format characters (they would reach logs and the CLI's
 * output). A group Sluice writes (its mirror) follows the narrower {@link groupIdProblem}.
 */
export function startGroupIdProblem(group: string): string | null {
  if (group.length === 0)
    return 'must not be empty: name the consumer group whose committed offsets Sluice starts from';
  if (group.length > 255) return `must be at most 255 characters, got ${group.length}`;
  return controlCharacterProblem(group);
}

/** Problems of an object form of `startFrom` that its JSON schema cannot word (paths under `startFrom.`). */
export function startFromProblems(startFrom: StartFrom): Problem[] {
  if (typeof startFrom === 'string') return [];
  const out: Problem[] = [];
  if ('offsets' in startFrom) {
    for (const [key, offset] of Object.entries(startFrom.offsets)) {
      const problem = partitionKeyProblem(key) ?? offsetProblem(offset);
      if (problem)
        out.push({ path: `startFrom.offsets.${JSON.stringify(key).slice(1, -1)}`, message: problem });
    }
  } else if ('timestamp' in startFrom) {
    const ms = startTimestampMs(startFrom.timestamp);
    if (typeof ms === 'string') out.push({ path: 'startFrom.timestamp', message: ms });
  } else {
    const problem = startGroupIdProblem(startFrom.consumerGroup);
    if (problem) out.push({ path: 'startFrom.consumerGroup', message: problem });
  }
  return out;
}

export const TOPIC_DEFAULTS: Omit<TopicConfig, 'topic' | 'destination'> = {
  format: 'jsonl',
  compression: 'gzip',
  partitionBy: { kind: 'kafka-time', granularity: 'hour' },
  serverSideEncryption: 'none',
  kmsKeyId: '',
  storageClass: 'STANDARD',
  maxRangeMessages: 5_000_000,
  maxRangeBytes: 256 * 1024 * 1024,
  flushIntervalMs: 10 * 60 * 1000,
  startFrom: 'earliest',
  finalizeLatenessMs: DEFAULT_FINALIZE_LATENESS_MS,
};

export const LIMITS = {
  maxRangeMessages: { min: 1, max: 1_000_000_000 },
  /** 1 KiB to 50 GiB: S3's multipart limit is 10,000 parts. */
  maxRangeBytes: { min: 1024, max: 50 * 1024 * 1024 * 1024 },
  /** 100 ms to one day. */
  flushIntervalMs: { min: 100, max: 24 * 60 * 60 * 1000 },
  /** 0 to 7 days. */
  finalizeLatenessMs: { min: 0, max: 7 * 24 * 60 * 60 * 1000 },
  prefixLength: 512,
} as const;

/**
 * Levels per codec: what Node's zlib accepts, less zstd's "ultra" levels 20-22 (they need a
 * window of up to 128 MiB per range). Defaults by measurement (bench/README.md, "Compression
 * levels"): gzip 6, zstd 3, the codecs' own defaults.
 */
export const COMPRESSION_LEVELS = {
  gzip: { min: 1, max: 9, default: 6 },
  zstd: { min: 1, max: 19, default: 3 },
} as const;

/**
 * The Parquet encoding revision that new ranges are planned with. A revision fixes every
 * choice that changes a file's bytes without changing what it holds (column encodings,
 * statistics, page size); the worker writes a range by the revision in its snapshot.
 *  1: what the first Parquet release wrote: PLAIN or hyparquet-writer's own dictionary choice,
 *     statistics on every column, 1 MiB pages.
 *  2: DELTA_BINARY_PACKED for every top-level whole-number column (Kafka's partition, offset
 *     and times, the value's int32/int64/timestamp/date columns), no statistics on a column
 *     whose leaves are all text or binary (worker parquet-object.ts; bench/README.md
 *     "Parquet's speed and size").
 */
export const PARQUET_ENCODING = 2;

/** The level a range's objects are compressed at: the spec's, else the codec's default; null for none. */
export function compressionLevelOf(
  spec: Pick<OutputSpec, 'compression' | 'compressionLevel'>,
): number | null {
  // Avro's deflate compresses inside its container, at zlib's default: no level to choose.
  if (spec.compression === 'none' || spec.compression === 'deflate' || spec.compression === 'snappy')
    return null;
  return spec.compressionLevel ?? COMPRESSION_LEVELS[spec.compression].default;
}

/** `compressionLevel` against the codec it goes with. */
export function compressionLevelProblem(compression: Compression, level: number): string | null {
  if (compression === 'none' || compression === 'deflate' || compression === 'snappy')
    return 'is only allowed with compression "gzip" or "zstd"; remove it, or choose a codec';
  const { min, max, default: dflt } = COMPRESSION_LEVELS[compression];
  if (!Number.isSafeInteger(level) || level < min || level > max)
    return `must be an integer from ${min} to ${max} for ${compression} (default ${dflt}), got ${JSON.stringify(level)}`;
  return null;
}

export const STORAGE_CLASSES = [
  'STANDARD',
  'REDUCED_REDUNDANCY',
  'STANDARD_IA',
  'ONEZONE_IA',
  'INTELLIGENT_TIERING',
  'GLACIER',
  'DEEP_ARCHIVE',
  'GLACIER_IR',
  'EXPRESS_ONEZONE',
] as const;

/** Kafka's own rule: 1 to 249 of `[a-zA-Z0-9._-]`, not `.` or `..`. */
export function topicNameProblem(topic: string): string | null {
  if (typeof topic !== 'string' || topic.length === 0) return 'must be a non-empty string';
  if (topic.length > 249) return `must be at most 249 characters, got ${topic.length}`;
  if (topic === '.' || topic === '..') return 'must not be "." or ".."';
  if (!/^[a-zA-Z0-9._-]+$/.test(topic))
    return 'may contain only letters, digits, ".", "_" and "-" (Kafka\'s rule)';
  return null;
}

/**
 * A consumer group id Sluice will write: 1 to 255 of `[a-zA-Z0-9._-]`. Kafka itself takes
 * almost any non-empty string; this narrower rule keeps the name safe to type into
 * `kafka-consumer-groups.sh --group` and to show on a console.
 */
export function groupIdProblem(group: string): string | null {
  if (typeof group !== 'string' || group.length === 0) return 'must be a non-empty string (or null for none)';
  if (group.length > 255) return `must be at most 255 characters, got ${group.length}`;
  if (!/^[a-zA-Z0-9._-]+$/.test(group))
    return 'may contain only letters, digits, ".", "_" and "-" (or be null for no mirror group)';
  return null;
}

/** S3's general-purpose bucket naming rules. */
export function bucketNameProblem(bucket: string): string | null {
  if (bucket.length < 3 || bucket.length > 63) return `must be 3 to 63 characters long, got ${bucket.length}`;
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(bucket)) {
    return 'may contain only lowercase letters, digits, "." and "-", and must begin and end with a letter or digit';
  }
  if (bucket.includes('..')) return 'must not contain two adjacent periods';
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(bucket)) return 'must not be formatted as an IP address';
  if (bucket.startsWith('xn--') || bucket.startsWith('sthree-') || bucket.startsWith('amzn-s3-demo-')) {
    return 'must not start with a prefix S3 reserves ("xn--", "sthree-", "amzn-s3-demo-")';
  }
  if (
    bucket.endsWith('-s3alias') ||
    bucket.endsWith('--ol-s3') ||
    bucket.endsWith('.mrap') ||
    bucket.endsWith('--x-s3')
  ) {
    return 'must not end with a suffix S3 reserves ("-s3alias", "--ol-s3", ".mrap", "--x-s3")';
  }
  return null;
}

/**
 * Control (Unicode Cc: C0, DEL, C1 such as U+009B, a terminal's CSI) and format characters
 * (Cf: bidi overrides U+202A-U+202E and U+2066-U+2069, zero-width U+200B-U+200F, U+FEFF...)
 * in a string that becomes an S3 key, a ZooKeeper path or CLI output: they can drive a
 * terminal or make a key read differently from what it is, and no key needs them.
 */
export function controlCharacterProblem(text: string): string | null {
  const m = /[\p{Cc}\p{Cf}]/u.exec(text);
  if (!m) return null;
  const code = m[0].codePointAt(0) ?? 0;
  const shown = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return `must not contain control characters or format characters (Unicode categories Cc and Cf), found ${shown} at character ${[...text.slice(0, m.index)].length + 1}; remove it`;
}

/**
 * A key prefix that reaches S3 keys: no absolute paths, no `..` or `.` segments, no control
 * characters; `{topic.N}` tokens only (object-key.ts's topicPrefix). With `topic`, the prefix as
 * that topic renders it must follow the same rules (its name must have part N, and no part may
 * make an empty or `_` segment).
 */
export function prefixProblem(prefix: string, topic?: string): string | null {
  if (prefix.includes('{') || prefix.includes('}')) {
    const stray = /[{}]/.exec(prefix.replace(/\{topic\.\d{1,2}\}/g, ''));
    if (stray) {
      return `"${stray[0]}" only in a {topic.N} token (N: the topic name's part, split on ".", 0 first)`;
    }
    if (topic !== undefined) {
      const parts = topic.split('.');
      for (const m of prefix.matchAll(/\{topic\.(\d{1,2})\}/g)) {
        if (Number(m[1]) >= parts.length) {
          return `${m[0]}: topic "${topic}" has ${parts.length} part${parts.length === 1 ? '' : 's'} separated by "." (${m[0]} needs ${Number(m[1]) + 1}); use a smaller N or register topics whose names have that many parts`;
        }
        if (parts[Number(m[1])] === '') {
          return `${m[0]}: part ${m[1]} of topic "${topic}" is empty (two "." in a row, or one at an end), which would make an empty segment`;
        }
      }
      const rendered = prefix.replace(/\{topic\.(\d{1,2})\}/g, (_, n: string) => parts[Number(n)]!);
      const problem = prefixProblem(rendered);
      return problem ? `for topic "${topic}" becomes "${rendered}", which ${problem}` : null;
    }
  }
  if (prefix.length > LIMITS.prefixLength) return `must be at most ${LIMITS.prefixLength} characters`;
  if (prefix === '') return null;
  if (prefix.startsWith('/')) return 'must not start with "/" (keys are relative to the bucket)';
  const control = controlCharacterProblem(prefix);
  if (control) return control;
  if (prefix.includes('\\')) return 'must not contain "\\"';
  const segments = prefix.replace(/\/$/, '').split('/');
  for (const s of segments) {
    if (s === '..' || s === '.') return `must not contain a "${s}" segment`;
    if (s === '') return 'must not contain an empty segment ("//")';
    if (s.startsWith('_'))
      return `segment "${s}" must not start with "_" (Sluice keeps its own records there)`;
  }
  return null;
}

/** Dotted path in a JSON value, e.g. `event.ts`: segments of letters, digits, `_`, `-` or `$`. */
export function fieldPathProblem(field: string): string | null {
  if (!/^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/.test(field) || field.length > 256) {
    return 'must be a dotted path of field names, e.g. "event.timestamp"';
  }
  return null;
}

function intProblem(value: number, min: number, max: number): string | null {
  if (!Number.isSafeInteger(value)) return `must be an integer, got ${JSON.stringify(value)}`;
  if (value < min || value > max) return `must be between ${min} and ${max}, got ${value}`;
  return null;
}

/**
 * Checks the rules that JSON schema cannot say readably. Types, enums and unknown fields
 * are checked by the API's schemas before this runs.
 */
export function topicConfigProblems(cfg: Partial<TopicConfig>): Problem[] {
  const out: Problem[] = [];
  const add = (path: string, message: string | null) => {
    if (message) out.push({ path, message });
  };
  if (cfg.topic !== undefined) add('topic', topicNameProblem(cfg.topic));
  if (cfg.destination) {
    add('destination.bucket', bucketNameProblem(cfg.destination.bucket));
    add('destination.prefix', prefixProblem(cfg.destination.prefix ?? '', cfg.topic));
  }
  for (const k of ['maxRangeMessages', 'maxRangeBytes', 'flushIntervalMs', 'finalizeLatenessMs'] as const) {
    const v = cfg[k];
    if (v !== undefined) add(k, intProblem(v, LIMITS[k].min, LIMITS[k].max));
  }
  if (typeof cfg.mirrorGroup === 'string') add('mirrorGroup', groupIdProblem(cfg.mirrorGroup));
  if (cfg.compressionLevel !== undefined)
    add(
      'compressionLevel',
      compressionLevelProblem(cfg.compression ?? TOPIC_DEFAULTS.compression, cfg.compressionLevel),
    );
  if (cfg.startFrom !== undefined) out.push(...startFromProblems(cfg.startFrom));
  if (cfg.partitionBy?.kind === 'event-time')
    add('partitionBy.field', fieldPathProblem(cfg.partitionBy.field));
  if (cfg.keyTemplate !== undefined) {
    const layout = parseKeyTemplate(cfg.keyTemplate, cfg.partitionBy ?? TOPIC_DEFAULTS.partitionBy);
    if ('message' in layout) add('keyTemplate', layout.message);
  }
  // A key id reaches an S3 header and the CLI's output: no control or format characters either.
  if (cfg.kmsKeyId) add('kmsKeyId', controlCharacterProblem(cfg.kmsKeyId));
  if (cfg.kmsKeyId && cfg.serverSideEncryption !== 'aws:kms') {
    add('kmsKeyId', 'is only allowed with serverSideEncryption "aws:kms"');
  }
  if (cfg.compression === 'snappy' && cfg.format !== undefined && cfg.format !== 'parquet')
    add(
      'compression',
      'snappy is only for format "parquet" (the codec inside the file); use gzip, zstd or none',
    );
  if (cfg.storageClass !== undefined && !(STORAGE_CLASSES as readonly string[]).includes(cfg.storageClass)) {
    add('storageClass', `must be one of ${STORAGE_CLASSES.join(', ')}`);
  }
  out.push(...formatSchemaProblems(cfg));
  return out;
}

/**
 * How `format`, `compression` and `schema` fit together: Avro files need writer schemas from the
 * registry, Parquet files declared columns; the codecs inside those files take no level.
 */
function formatSchemaProblems(cfg: Partial<TopicConfig>): Problem[] {
  const out: Problem[] = [];
  if ((cfg.format === 'avro' || cfg.format === 'parquet') && cfg.compressionLevel !== undefined) {
    out.push({
      path: 'compressionLevel',
      message: `is not used with format "${cfg.format}" (its codec runs inside the file at the codec's default level); remove it`,
    });
  }
  if (cfg.format === 'parquet') {
    // Registry schemas: any schema id may come, so nothing is looked up in the registry here;
    // the worker rejects the records whose schema it cannot lay out.
    if (cfg.schema?.source !== 'registry') out.push(...inlineSchemaProblems('parquet', cfg.schema));
    if (cfg.compression === 'deflate') {
      out.push({
        path: 'compression',
        message: 'deflate is the codec of Avro files only; use zstd, snappy, gzip or none',
      });
    }
  } else if (cfg.format === 'avro') {
    if (cfg.schema?.source !== 'registry') {
      out.push({
        path: 'schema',
        message:
          'is required with format "avro": set schema to {"source": "registry"} (values in the Confluent wire format, writer schemas from SLUICE_SCHEMA_REGISTRY_URL)',
      });
    } else if (cfg.schema.key === true) {
      out.push({
        path: 'schema.key',
        message: 'must not be true with format "avro": Avro files hold the value records only; leave it out',
      });
    }
    if (cfg.compression === 'gzip') {
      out.push({ path: 'compression', message: 'must be deflate, zstd or none with format "avro"' });
    }
  } else {
    if (cfg.compression === 'deflate') {
      out.push({
        path: 'compression',
        message: 'deflate is the codec of Avro files only; use gzip, zstd or none, or format "avro"',
      });
    }
    if (cfg.schema !== undefined && cfg.format !== undefined) {
      out.push({
        path: 'schema',
        message: `has no effect with format "${cfg.format}" (it writes records as they are): leave it out, or use format "avro" (registry) or "parquet" (inline)`,
      });
    }
  }
  return out;
}

/**
 * An `avro` topic's `gzip` (the registration's default compression) becomes `deflate`, the
 * same algorithm under the name Avro's container gives it.
 */
export function withFormatCompression<T extends Pick<TopicConfig, 'format' | 'compression'>>(cfg: T): T {
  return cfg.format === 'avro' && cfg.compression === 'gzip' ? { ...cfg, compression: 'deflate' } : cfg;
}

/** Normalizes a destination: trims a trailing `/` from the prefix. */
export function normalizeDestination(d: Destination): Destination {
  return { bucket: d.bucket, prefix: (d.prefix ?? '').replace(/\/+$/, '') };
}

export function outputSpecOf(cfg: OutputSpec): OutputSpec {
  return {
    destination: { ...cfg.destination },
    format: cfg.format,
    compression: cfg.compression,
    ...(cfg.compressionLevel !== undefined ? { compressionLevel: cfg.compressionLevel } : {}),
    // A new snapshot is planned now: it gets this release's encoding, whatever the topic holds.
    ...(cfg.format === 'parquet' ? { parquetEncoding: PARQUET_ENCODING } : {}),
    partitionBy: { ...cfg.partitionBy },
    serverSideEncryption: cfg.serverSideEncryption,
    kmsKeyId: cfg.kmsKeyId,
    storageClass: cfg.storageClass,
    ...(cfg.schema ? { schema: structuredClone(cfg.schema) } : {}),
    ...(cfg.keyTemplate !== undefined ? { keyTemplate: cfg.keyTemplate } : {}),
  };
}

/** The compression a topic gets when its registration names none: zstd inside Parquet files. */
export function defaultCompressionOf(format: Format): Compression {
  return format === 'parquet' ? 'zstd' : TOPIC_DEFAULTS.compression;
}
