/**
 * `sluice audit`, `sluice replay …` and the text of `sluice topics add --dry-run`: thin
 * clients of `GET /api/v1/topics/{topic}/audit`, `/api/v1/replays` and
 * `POST /api/v1/topics?dryRun=true`.
 */
import type { AuditAnswer, DryRunView, ReplayAnswer, ReplayListAnswer } from '@sluice/master/answer-types';
import { type ApiClient, CliError, EXIT } from './api-client.ts';
import { formatCount, table } from './table.ts';
import { printAnswer } from './terminal-text.ts';

export const INTEGRITY_HELP: Record<string, string> = {
  audit: `usage: sluice audit <topic> [--partition N] [--from-offset X --to-offset Y] [--deep] [--fresh] [--json]

Checks that everything of the topic is in S3, exactly once: every offset below each
partition's committed offset is covered by exactly one commit record (gaps, with their cause,
and overlaps are reported), every object a commit record lists exists with its size, and no
object below the topic's folder is unaccounted for (whole-topic audits only).

  --partition N      only this partition
  --from-offset X    only offsets from X (inclusive)
  --to-offset Y      only offsets below Y
  --deep             also read every object back: SHA-256, record count, first and last offset
  --fresh            audit again even if the master has this audit's answer cached

exit codes: 0 clean, 4 problems found, 1 the API refused, 3 master unreachable`,
  'replay start': `usage: sluice replay start <topic> --bucket B --prefix P [window] [output options]

Exports a window of a registered topic again, to another prefix (outside every topic's
folder) or in another format, while the topic's own ingestion carries on.

window (default: everything Kafka still has):
  --partition N        only this partition
  --from-offset X      first offset (inclusive)      --to-offset Y    end offset (exclusive)
  --from-time T        first Kafka time (inclusive)  --to-time T      end time (exclusive)
                       (ISO-8601, e.g. 2026-11-25T08:00:00Z, or epoch milliseconds)
output (default: the topic's):
  --format F  --compression C  --partition-by P  --max-range-messages N

other replay commands:
  sluice replay list            replays and their progress
  sluice replay show <id>       one replay, per partition
  sluice replay cancel <id>     stop planning it (ranges in hand may finish)`,
};

function offsetArg(name: string, v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (!/^\d{1,20}$/.test(v))
    throw new CliError(`--${name} must be an offset (a whole number), got "${v}"`, EXIT.USAGE);
  return v;
}

function partitionArg(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d{1,10}$/.test(v))
    throw new CliError(`--partition must be a partition number, got "${v}"`, EXIT.USAGE);
  return Number(v);
}

const print = printAnswer;

export interface IntegrityOptions {
  partition?: string;
  'from-offset'?: string;
  'to-offset'?: string;
  'from-time'?: string;
  'to-time'?: string;
  deep?: boolean;
  fresh?: boolean;
  bucket?: string;
  prefix?: string;
  format?: string;
  compression?: string;
  'max-range-messages'?: string;
}

/** `sluice audit <topic>`: exit 0 when clean, 4 when problems were found. */
export async function auditCommand(
  api: ApiClient,
  topic: string | undefined,
  o: IntegrityOptions,
  json: boolean,
): Promise<number> {
  if (!topic) throw new CliError(`sluice audit needs a topic name\n\n${INTEGRITY_HELP.audit}`, EXIT.USAGE);
  const q = new URLSearchParams();
  const partition = partitionArg(o.partition);
  if (partition !== undefined) q.set('partition', String(partition));
  const from = offsetArg('from-offset', o['from-offset']);
  const to = offsetArg('to-offset', o['to-offset']);
  if (from !== undefined) q.set('fromOffset', from);
  if (to !== undefined) q.set('toOffset', to);
  if (o.deep) q.set('deep', 'true');
  if (o.fresh) q.set('fresh', 'true');
  const qs = q.toString();
  const r = await api.call<AuditAnswer>(
    'GET',
    `/api/v1/topics/${encodeURIComponent(topic)}/audit${qs ? `?${qs}` : ''}`,
  );
  print(json, r, () => {
    const lines = [
      `${r.topic}: ${r.ok ? 'OK' : `${r.problems} problem${r.problems === 1 ? '' : 's'}`}${r.deep ? ' (deep)' : ''}${r.cached ? ` (cached answer, checked at ${r.checkedAt}; --fresh audits again)` : ''}`,
      table(
        ['PARTITION', 'FROM', 'TO', 'RANGES', 'RECORDS', 'OBJECTS', 'BYTES', 'RETENTION GAP'],
        r.partitions.map((p) => [
          p.partition,
          formatCount(p.from),
          formatCount(p.to),
          p.ranges,
          formatCount(p.records),
          p.objects,
          formatCount(p.bytes),
          formatCount(p.retentionGapOffsets),
        ]),
      ),
    ];
    for (const f of r.findings) lines.push(`  ${f.kind}: ${f.message}`);
    if (r.truncated) lines.push(`  … and more (see --json)`);
    if (r.pendingObjects) lines.push(`objects of ranges in flight (not checked): ${r.pendingObjects}`);
    const off = r.startedWithoutResume;
    if (off) {
      lines.push(`registered with resume: false at ${off.registeredAt}:`);
      for (const p of off.partitions)
        lines.push(`  partition ${p.partition} started at ${formatCount(p.startOffset)}: ${p.detail}`);
    }
    return lines.join('\n');
  });
  return r.ok ? EXIT.OK : EXIT.PROBLEMS;
}

function replayLine(r: ReplayAnswer): Array<string | number | undefined> {
  return [
    r.id,
    r.topic,
    r.state,
    `s3://${r.output.destination.bucket}/${r.output.destination.prefix ? `${r.output.destination.prefix}/` : ''}${r.topic}/`,
    formatCount(r.progress.committedOffsets),
    formatCount(r.progress.offsets),
    r.progress.rangesInFlight,
  ];
}

const REPLAY_HEADERS = ['REPLAY', 'TOPIC', 'STATE', 'DESTINATION', 'DONE', 'OFFSETS', 'IN FLIGHT'];

/** `sluice replay start|list|show|cancel`. */
export async function replayCommand(
  api: ApiClient,
  sub: string | undefined,
  arg: string | undefined,
  o: IntegrityOptions & { partitionBy?: unknown },
  json: boolean,
): Promise<number> {
  switch (sub) {
    case 'start': {
      if (!arg || !o.bucket) {
        throw new CliError(
          `sluice replay start needs a topic and --bucket\n\n${INTEGRITY_HELP['replay start']}`,
          EXIT.USAGE,
        );
      }
      const body: Record<string, unknown> = {
        topic: arg,
        destination: { bucket: o.bucket, prefix: o.prefix ?? '' },
        format: o.format,
        compression: o.compression,
        partitionBy: o.partitionBy,
        maxRangeMessages: o['max-range-messages'] === undefined ? undefined : Number(o['max-range-messages']),
        partition: partitionArg(o.partition),
        fromOffset: offsetArg('from-offset', o['from-offset']),
        toOffset: offsetArg('to-offset', o['to-offset']),
        fromTimestamp: o['from-time'],
        toTimestamp: o['to-time'],
      };
      for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
      const r = await api.call<ReplayAnswer>('POST', '/api/v1/replays', body);
      print(json, r, () =>
        [
          `replay ${r.id} of ${r.topic} -> s3://${r.output.destination.bucket}/${r.output.destination.prefix ? `${r.output.destination.prefix}/` : ''}${r.topic}/`,
          table(
            ['PARTITION', 'START', 'END'],
            r.partitions.map((p) => [p.partition, p.start, p.end]),
          ),
          ...(r.notes ?? []).map((n) => `note: ${n}`),
        ].join('\n'),
      );
      return EXIT.OK;
    }
    case 'list': {
      const r = await api.call<ReplayListAnswer>('GET', '/api/v1/replays');
      print(json, r, () => table(REPLAY_HEADERS, r.replays.map(replayLine)));
      return EXIT.OK;
    }
    case 'show': {
      if (!arg) throw new CliError('sluice replay show needs a replay id', EXIT.USAGE);
      const r = await api.call<ReplayAnswer>('GET', `/api/v1/replays/${encodeURIComponent(arg)}`);
      print(json, r, () =>
        [
          table(REPLAY_HEADERS, [replayLine(r)]),
          table(
            ['PARTITION', 'START', 'END', 'COMMITTED', 'REMAINING', 'RECORDS', 'FAILED RANGES'],
            r.partitionsProgress.map((p) => [
              p.partition,
              p.start,
              p.end,
              p.committedOffset,
              formatCount(p.remaining),
              formatCount(p.committedRecords),
              p.ranges?.failed,
            ]),
          ),
        ].join('\n'),
      );
      return EXIT.OK;
    }
    case 'cancel': {
      if (!arg) throw new CliError('sluice replay cancel needs a replay id', EXIT.USAGE);
      const r = await api.call<ReplayAnswer>('DELETE', `/api/v1/replays/${encodeURIComponent(arg)}`);
      print(json, r, () => `replay ${r.id} is ${r.state}`);
      return EXIT.OK;
    }
    default:
      throw new CliError(
        `${sub ? `unknown command "replay ${sub}"` : 'sluice replay needs a command'}\n\n${INTEGRITY_HELP['replay start']}`,
        EXIT.USAGE,
      );
  }
}

/** The human text of a registration dry run. */
export function dryRunText(r: DryRunView): string {
  const bytes = r.backlog.bytes === null ? 'unknown' : `${formatCount(r.backlog.bytes)} bytes`;
  const lines = [
    `dry run: registering ${r.topic} would copy ${formatCount(r.backlog.records)} records (${bytes} before compression) from ${r.partitions.length} partitions`,
    `into about ${formatCount(r.output.objects)} objects in ${formatCount(r.output.ranges)} ranges` +
      (r.output.typicalObjectBytes === null
        ? ''
        : `, typically ${formatCount(r.output.typicalObjectBytes)} bytes`) +
      (r.output.typicalObjectRecords === null
        ? ''
        : ` and ${formatCount(r.output.typicalObjectRecords)} records`) +
      ' each',
    table(
      ['PARTITION', 'START', 'END', 'RECORDS', 'RANGES', 'OBJECTS'],
      r.partitions.map((p) => [
        p.partition,
        p.startOffset,
        p.endOffset,
        formatCount(p.backlogRecords),
        p.ranges,
        p.objects,
      ]),
    ),
    'first keys:',
    ...r.output.firstKeys.map((k) => `  ${k}`),
    `(${r.estimate.method}; ${r.estimate.sampledRecords} records sampled)`,
  ];
  if (r.inferred) {
    // The proposal is JSON to read back and edit: printed as the registration would store it.
    lines.push(
      `inferred schema (${r.inferred.sampledRecords} records sampled):`,
      JSON.stringify(r.inferred.schema, null, 2),
      ...r.inferred.leftOut.map(
        (f) => `  no column for "${f.name}" (kept in __sluice_extra): it ${f.reason}`,
      ),
    );
  }
  return lines.join('\n');
}
