/**
 * `sluice topics …`: register (`add`), change (`update`), look at (`list`, `show`), pause,
 * resume and remove topics, as thin clients of `/api/v1/topics`. `add` and `update` read the
 * same policy options into the same body fields, sizes and durations in human units.
 */
import type {
  DryRunView,
  TopicDetailAnswer,
  TopicListAnswer,
  TopicPatchBody,
  TopicRecordAnswer,
} from '@sluice/master/answer-types';
import { type ApiClient, CliError, EXIT } from './api-client.ts';
import { parseQuantity } from './human-units.ts';
import { dryRunText } from './integrity-commands.ts';
import { formatCount, table } from './table.ts';
import { printAnswer as out } from './terminal-text.ts';

export const TOPICS_HELP: Record<string, string> = {
  'topics add': `usage: sluice topics add <topic> --bucket B [options]

  --bucket B                 destination bucket (required)
  --prefix P                 key prefix, e.g. raw/kafka (default: none)
  --format F                 jsonl | raw | avro | parquet (default jsonl; avro needs --schema
                             registry, parquet --schema registry or infer)
  --compression C            gzip | zstd | none (default gzip); avro: deflate | zstd | none;
                             parquet (inside the file): zstd (default) | snappy | gzip | none
  --schema registry          values in the Confluent wire format, writer schemas from the
                             workers' SLUICE_SCHEMA_REGISTRY_URL
  --schema infer             parquet: columns inferred from the topic's newest records, stored
                             as an inline schema (--dry-run shows them; change them with the API)
  --partition-by P           none | kafka-time:hour | kafka-time:day |
                             event-time:<field>:hour | event-time:<field>:day,
                             optionally :<unit> after it, one of s, ms, us, ns,
                             iso8601 (e.g. event-time:ts:hour:s; default kafka-time:hour)
  --max-range-messages N     most offsets per range (default 5000000)
  --max-range-bytes SIZE     about this many uncompressed bytes per range (default 256MiB)
  --flush-interval-ms TIME   cut a shorter range after unplanned records waited this long (default 10m)
  --start-from S             earliest | latest (default earliest), or where another pipeline
                             stopped: group=<consumer group> (its committed offsets; stop
                             that consumer first), time=<ISO-8601 or epoch ms> (the first
                             offset at or after it), offsets=<partition>=<offset>,...
  --start-fallback S         with group= or offsets=: partitions without an offset start
                             at earliest (default) or latest
  --storage-class S          S3 storage class (default STANDARD)
  --sse S                    none | AES256 | aws:kms (default none)
  --kms-key-id K             with --sse aws:kms
  --finalize-lateness-ms TIME  time-partitioned: _SUCCESS once partitions are this far past an hour (default 10m)
  --mirror-group G           the Kafka consumer group Sluice's progress is mirrored into
                             (default sluice.<topic>; none: no mirror)
  --key-template T           folders and file name below <prefix>/<topic>/, e.g.
                             '{year=YYYY}/{month=MM}/{day=DD}/{hour=HH}/{field:tenant}/{topic}-{partition}-{start}-{end}'
                             (default: dt=/hr= folders as --partition-by asks; see the README)
  --dry-run                  register nothing: show partitions, backlog, objects and first keys

SIZE: bytes, or with a unit: 256MiB, 1GB (KB, MB, GB, TB: powers of 1000; KiB, MiB, GiB, TiB: of 1024)
TIME: milliseconds, or with units: 500ms, 5s, 10m, 1h30m, 1d`,
  'topics update': `usage: sluice topics update <topic> [options]

Changes a registered topic's policy; ranges planned afterwards follow it (a planned range keeps
the settings it was planned with). Options as for sluice topics add (but --start-from and
--dry-run); only those given change. --prefix or --bucket alone keeps the other as it is.

  --bucket B  --prefix P  --format F  --compression C  --partition-by P
  --max-range-messages N  --max-range-bytes SIZE  --flush-interval-ms TIME
  --storage-class S  --sse S  --kms-key-id K  --finalize-lateness-ms TIME  --mirror-group G
  --schema registry  --key-template T`,
};

/** What the topics commands read of the parsed options. */
export interface TopicOptions {
  bucket?: string | undefined;
  prefix?: string | undefined;
  format?: string | undefined;
  compression?: string | undefined;
  'partition-by'?: string | undefined;
  'max-range-messages'?: string | undefined;
  'max-range-bytes'?: string | undefined;
  'flush-interval-ms'?: string | undefined;
  'start-from'?: string | undefined;
  'start-fallback'?: string | undefined;
  'mirror-group'?: string | undefined;
  schema?: string | undefined;
  'key-template'?: string | undefined;
  'storage-class'?: string | undefined;
  sse?: string | undefined;
  'kms-key-id'?: string | undefined;
  'finalize-lateness-ms'?: string | undefined;
  'dry-run'?: boolean | undefined;
  force?: boolean | undefined;
}

function usage(msg: string, help: string): never {
  throw new CliError(`${msg}\n\n${help}`, EXIT.USAGE);
}

/**
 * `--schema registry` or `--schema infer` → `{ source: … }`. Inline columns are JSON too long for
 * an option: they are given through the API or a topics file (`sluice apply`).
 */
function schemaOpt(v: string | undefined): { source: 'registry' | 'infer' } | undefined {
  if (v === undefined) return undefined;
  if (v !== 'registry' && v !== 'infer')
    usage(`--schema must be registry or infer, got "${v}"`, TOPICS_HELP['topics add'] ?? '');
  return { source: v };
}

function intOpt(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v))
    usage(`--${name} must be a whole number, got "${v}"`, TOPICS_HELP['topics add'] ?? '');
  return Number(v);
}

/**
 * `--start-from` as the API's `startFrom`: `earliest` and `latest` as they are; `group=ID`,
 * `time=WHEN` and `offsets=P=O,P=O` as its object forms (the master resolves and checks them),
 * with `--start-fallback` for partitions a group or an offsets list does not name.
 */
export function parseStartFrom(v: string, fallback: string | undefined): unknown {
  const help = TOPICS_HELP['topics add'] ?? '';
  if (fallback !== undefined && fallback !== 'earliest' && fallback !== 'latest')
    usage(`--start-fallback must be earliest or latest, got "${fallback}"`, help);
  if (v === 'earliest' || v === 'latest') {
    if (fallback !== undefined) usage('--start-fallback goes with --start-from group=… or offsets=…', help);
    return v;
  }
  const eq = v.indexOf('=');
  const kind = eq < 0 ? v : v.slice(0, eq);
  const arg = eq < 0 ? '' : v.slice(eq + 1);
  const withFallback = fallback === undefined ? {} : { fallback };
  if (kind === 'group' && arg) return { consumerGroup: arg, ...withFallback };
  if (kind === 'time' && arg) {
    if (fallback !== undefined) usage('--start-fallback goes with --start-from group=… or offsets=…', help);
    return { timestamp: /^\d+$/.test(arg) ? Number(arg) : arg };
  }
  if (kind === 'offsets' && arg) {
    const offsets: Record<string, string> = {};
    for (const pair of arg.split(',')) {
      const m = /^(\d+)=(\d+)$/.exec(pair.trim());
      if (!m?.[1] || !m[2])
        usage(
          `--start-from offsets=… takes <partition>=<offset> pairs joined by commas (e.g. offsets=0=1200,1=980), got "${pair}"`,
          help,
        );
      offsets[m[1]] = m[2];
    }
    return { offsets, ...withFallback };
  }
  return usage(
    `--start-from must be earliest, latest, group=<consumer group>, time=<ISO-8601 or epoch ms> or offsets=<partition>=<offset>,..., got "${v}"`,
    help,
  );
}

export function parsePartitionBy(v: string | undefined): TopicPatchBody['partitionBy'] {
  if (v === undefined) return undefined;
  if (v === 'none') return { kind: 'none' };
  const parts = v.split(':');
  if (parts[0] === 'kafka-time' && parts.length === 2 && (parts[1] === 'hour' || parts[1] === 'day')) {
    return { kind: 'kafka-time', granularity: parts[1] };
  }
  const [kind, field = '', granularity, unit] = parts;
  if (
    kind === 'event-time' &&
    (parts.length === 3 || parts.length === 4) &&
    (granularity === 'hour' || granularity === 'day')
  ) {
    // The unit is checked by the API's schema, which names the accepted ones.
    return {
      kind: 'event-time',
      field,
      granularity,
      ...(unit ? { unit: unit as 's' } : {}),
    };
  }
  return usage(
    `--partition-by "${v}" is not one of none, kafka-time:hour|day, event-time:<field>:hour|day[:s|ms|us|ns|iso8601]`,
    TOPICS_HELP['topics add'] ?? '',
  );
}

/** The policy fields the options give (those not given are left out: the API's defaults, or unchanged). */
export function policyBody(o: TopicOptions): Record<string, unknown> {
  const size = (name: 'max-range-bytes') =>
    o[name] === undefined ? undefined : parseQuantity(name, o[name], 'size');
  const time = (name: 'flush-interval-ms' | 'finalize-lateness-ms') =>
    o[name] === undefined ? undefined : parseQuantity(name, o[name], 'duration');
  const body: Record<string, unknown> = {
    format: o.format,
    compression: o.compression,
    partitionBy: parsePartitionBy(o['partition-by']),
    maxRangeMessages: intOpt('max-range-messages', o['max-range-messages']),
    maxRangeBytes: size('max-range-bytes'),
    flushIntervalMs: time('flush-interval-ms'),
    storageClass: o['storage-class'],
    serverSideEncryption: o.sse,
    kmsKeyId: o['kms-key-id'],
    finalizeLatenessMs: time('finalize-lateness-ms'),
    mirrorGroup: o['mirror-group'] === 'none' ? null : o['mirror-group'],
    schema: schemaOpt(o.schema),
    keyTemplate: o['key-template'],
  };
  for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
  return body;
}

const where = (d: { bucket: string; prefix?: string | undefined }, topic: string) =>
  `s3://${d.bucket}/${d.prefix ? `${d.prefix}/` : ''}${topic}/`;

/** `sluice topics <verb> [topic]`. */
export async function topicsCommand(
  api: ApiClient,
  verb: string | undefined,
  topic: string | undefined,
  o: TopicOptions,
  json: boolean,
): Promise<number> {
  const named = () =>
    topic ?? usage(`sluice topics ${verb} needs a topic name`, TOPICS_HELP[`topics ${verb}`] ?? '');
  const path = () => `/api/v1/topics/${encodeURIComponent(named())}`;
  switch (verb) {
    case 'add': {
      if (!o.bucket) usage('--bucket is required', TOPICS_HELP['topics add'] ?? '');
      const body = {
        topic: named(),
        destination: { bucket: o.bucket, prefix: o.prefix ?? '' },
        ...policyBody(o),
        ...(o['start-from'] === undefined
          ? {}
          : { startFrom: parseStartFrom(o['start-from'], o['start-fallback']) }),
      };
      if (o['dry-run']) {
        const dry = await api.call<DryRunView>('POST', '/api/v1/topics?dryRun=true', body);
        out(json, dry, () => dryRunText(dry));
        return EXIT.OK;
      }
      const rec = await api.call<TopicRecordAnswer>('POST', '/api/v1/topics', body);
      out(json, rec, () => `registered ${rec.topic} -> ${where(rec.destination, rec.topic)}`);
      return EXIT.OK;
    }
    case 'update': {
      const body = policyBody(o);
      if (o.bucket !== undefined || o.prefix !== undefined) {
        // The API replaces the destination whole: keep the part not given as it is.
        const d =
          o.bucket !== undefined && o.prefix !== undefined
            ? { bucket: o.bucket, prefix: o.prefix }
            : (await api.call<TopicRecordAnswer>('GET', path())).destination;
        body.destination = { bucket: o.bucket ?? d.bucket, prefix: o.prefix ?? d.prefix ?? '' };
      }
      if (Object.keys(body).length === 0) {
        usage(
          `sluice topics update ${named()} changes nothing: give an option to change`,
          TOPICS_HELP['topics update'] ?? '',
        );
      }
      const rec = await api.call<TopicRecordAnswer>('PATCH', path(), body);
      out(json, rec, () => {
        const changed = Object.keys(body).map((k) => {
          const v = (rec as Record<string, unknown>)[k];
          return `  ${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`;
        });
        return [`updated ${rec.topic} (ranges planned from now on follow it):`, ...changed].join('\n');
      });
      return EXIT.OK;
    }
    case 'list': {
      const list = await api.call<TopicListAnswer>('GET', '/api/v1/topics');
      out(json, list, () =>
        table(
          ['TOPIC', 'STATE', 'PAUSED', 'DESTINATION', 'FORMAT', 'PARTITION BY', 'PATTERN'],
          list.topics.map((t) => [
            t.topic,
            t.state,
            t.paused ? 'yes' : 'no',
            `s3://${t.destination.bucket}/${t.destination.prefix ?? ''}`,
            `${t.format}/${t.compression}`,
            t.partitionBy.kind === 'none'
              ? 'none'
              : `${t.partitionBy.kind}:${t.partitionBy.field ? `${t.partitionBy.field}:` : ''}${t.partitionBy.granularity}`,
            t.pattern ?? '-',
          ]),
        ),
      );
      return EXIT.OK;
    }
    case 'show': {
      const t = await api.call<TopicDetailAnswer>('GET', path());
      out(json, t, () => {
        const head = `${t.topic}  state=${t.state}${t.paused ? ' (paused)' : ''}${t.error ? `  error: ${t.error}` : ''}\n  -> s3://${t.destination.bucket}/${t.destination.prefix ?? ''}  ${t.format}/${t.compression}\n`;
        const rows = t.partitions.map((p) => [
          p.partition,
          formatCount(p.committedOffset),
          formatCount(p.highWatermark),
          formatCount(p.lag),
          p.ranges.length,
        ]);
        return head + table(['PARTITION', 'COMMITTED', 'HIGH WATERMARK', 'LAG', 'IN FLIGHT'], rows);
      });
      return EXIT.OK;
    }
    case 'pause':
    case 'resume': {
      const t = await api.call<TopicRecordAnswer>('PATCH', path(), { paused: verb === 'pause' });
      out(json, t, () => `${t.topic} ${t.paused ? 'paused' : 'resumed'}`);
      return EXIT.OK;
    }
    case 'remove':
    case 'delete': {
      const force = o.force ?? false;
      const t = await api.call<TopicRecordAnswer>('DELETE', `${path()}${force ? '?force=true' : ''}`);
      out(json, t, () =>
        force
          ? `${named()} is being removed: unfinished ranges are abandoned and recorded (the audit lists them), then its state in ZooKeeper goes; S3 is left alone`
          : `${named()} is being removed: ranges in flight finish, then its state in ZooKeeper goes; S3 is left alone`,
      );
      return EXIT.OK;
    }
    default:
      throw new CliError(
        `${verb ? `unknown command "topics ${verb}"` : 'sluice topics needs a command'} (sluice --help lists them)`,
        EXIT.USAGE,
      );
  }
}
