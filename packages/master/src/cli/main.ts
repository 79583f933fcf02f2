/**
 * `sluice`: the operator CLI, a thin client of the master's REST API.
 *
 * Reads SLUICE_API_URL (default http://127.0.0.1:8080) and SLUICE_API_TOKEN (or the file
 * SLUICE_API_TOKEN_FILE names), or --api-url and --token / --token-file (a --token is visible
 * to every user of the machine in `ps`, so the help says to prefer the others). Human tables by default, --json for scripts. Exit codes: 0 done, 1 the API
 * said no, 2 bad usage, 3 the master could not be reached, 4 a check found problems.
 */
import { parseArgs } from 'node:util';
import { readSecretFile } from '@sluice/shared';
import type { StatusAnswer } from '../api/status-schema.ts';
import type { TopicDetailAnswer, TopicListAnswer, TopicRecordAnswer } from '../api/topic-schemas.ts';
import type { WorkerListAnswer } from '../api/workers-routes.ts';
import type { DryRunView } from '../topics/topic-dry-run.ts';
import { CliError, createApiClient, EXIT } from './api-client.ts';
import { auditCommand, dryRunText, INTEGRITY_HELP, replayCommand } from './integrity-commands.ts';
import { RECOVER_HELP, recoverCommand } from './recover-command.ts';
import { statusText } from './status-text.ts';
import { formatCount, formatDuration, table } from './table.ts';
import { escapeForTerminal, printAnswer } from './terminal-text.ts';

const HELP: Record<string, string> = {
  main: `sluice — operate a Sluice installation through its master's REST API

usage: sluice <command> [options]

commands:
  topics add <topic> --bucket B [...]   register a topic (see: sluice topics add --help)
  topics list                           registered topics
  topics show <topic>                   config and per-partition progress
  topics pause <topic>                  stop planning new ranges (ranges in flight finish)
  topics resume <topic>                 resume planning
  topics remove <topic>                 unregister (ranges in flight finish; S3 is left alone)
  topics delete <topic> [--force]       the same; --force abandons unfinished ranges (recorded,
                                        reported by the audit) for a topic stuck in deleting
  status                                leader, lag in records and time, throughput,
                                        per-topic progress, workers, failures, gaps
  workers                               live workers and their active ranges
  ranges retry <range-id>               requeue a range ({topic}-{partition}-{start}-{end})
  audit <topic> [--deep]                is everything in S3, exactly once? (see: sluice audit --help)
  replay start <topic> --bucket B ...   export a window again (see: sluice replay start --help)
  replay list | show <id> | cancel <id> replays and their progress
  recover --bucket B [--prefix P]       after ZooKeeper lost its data: register the topics
                                        again from S3 (see: sluice recover --help)

options (every command):
  --api-url URL   master address (default $SLUICE_API_URL or http://127.0.0.1:8080)
  --token T       bearer token for changes (default $SLUICE_API_TOKEN); anyone on this
                  machine sees it in \`ps\`: prefer $SLUICE_API_TOKEN or --token-file
  --token-file F  read the token from file F (default $SLUICE_API_TOKEN_FILE)
  --json          print the API's JSON answer instead of a table
  -h, --help      help

exit codes: 0 ok, 1 the API refused or failed, 2 usage error, 3 master unreachable,
            4 a check found problems (audit)`,
  'topics add': `usage: sluice topics add <topic> --bucket B [options]

  --bucket B                 destination bucket (required)
  --prefix P                 key prefix, e.g. raw/kafka (default: none)
  --format F                 jsonl | raw (default jsonl)
  --compression C            gzip | zstd | none (default gzip)
  --partition-by P           none | kafka-time:hour | kafka-time:day |
                             event-time:<field>:hour | event-time:<field>:day,
                             optionally :<unit> after it, one of s, ms, us, ns,
                             iso8601 (e.g. event-time:ts:hour:s; default kafka-time:hour)
  --max-range-messages N     most offsets per range (default 5000000)
  --max-range-bytes N        about this many uncompressed bytes per range (default 268435456)
  --flush-interval-ms N      cut a shorter range after unplanned records waited this long (default 600000)
  --start-from S             earliest | latest (default earliest)
  --storage-class S          S3 storage class (default STANDARD)
  --sse S                    none | AES256 | aws:kms (default none)
  --kms-key-id K             with --sse aws:kms
  --finalize-lateness-ms N   time-partitioned: _SUCCESS once partitions are this far past an hour (default 600000)
  --dry-run                  register nothing: show partitions, backlog, objects and first keys`,
  ...INTEGRITY_HELP,
  ...RECOVER_HELP,
};

function usage(msg: string, topic = 'main'): never {
  throw new CliError(`${msg}\n\n${HELP[topic] ?? HELP.main}`, EXIT.USAGE);
}

function intOpt(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) usage(`--${name} must be a whole number, got "${v}"`, 'topics add');
  return Number(v);
}

function parsePartitionBy(v: string | undefined): unknown {
  if (v === undefined) return undefined;
  if (v === 'none') return { kind: 'none' };
  const parts = v.split(':');
  if (parts[0] === 'kafka-time' && parts.length === 2 && (parts[1] === 'hour' || parts[1] === 'day')) {
    return { kind: 'kafka-time', granularity: parts[1] };
  }
  if (
    parts[0] === 'event-time' &&
    (parts.length === 3 || parts.length === 4) &&
    (parts[2] === 'hour' || parts[2] === 'day')
  ) {
    // The unit is checked by the API's schema, which names the accepted ones.
    return {
      kind: 'event-time',
      field: parts[1],
      granularity: parts[2],
      ...(parts[3] ? { unit: parts[3] } : {}),
    };
  }
  return usage(
    `--partition-by "${v}" is not one of none, kafka-time:hour|day, event-time:<field>:hour|day[:s|ms|us|ns|iso8601]`,
    'topics add',
  );
}

const out = printAnswer;

/**
 * The bearer token: from --token or --token-file, else from SLUICE_API_TOKEN or the file
 * SLUICE_API_TOKEN_FILE names (none: reads only). Both forms at one level are a usage error,
 * as they are for the master, because which one was meant is unknown.
 */
function apiToken(
  values: { token?: string; 'token-file'?: string },
  env: NodeJS.ProcessEnv,
): string | undefined {
  const pick = (token: string | undefined, file: string | undefined, names: string): string | undefined => {
    if (token && file) usage(`${names} are both set; give only one of them`);
    if (!file) return token || undefined;
    const read = readSecretFile(file);
    return 'value' in read ? read.value.trim() : usage(`${names.split(' and ')[1]} ${read.problem}`);
  };
  return (
    pick(values.token, values['token-file'], '--token and --token-file') ??
    pick(env.SLUICE_API_TOKEN, env.SLUICE_API_TOKEN_FILE, 'SLUICE_API_TOKEN and SLUICE_API_TOKEN_FILE')
  );
}

export async function run(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      'api-url': { type: 'string' },
      token: { type: 'string' },
      'token-file': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      bucket: { type: 'string' },
      prefix: { type: 'string' },
      format: { type: 'string' },
      compression: { type: 'string' },
      'partition-by': { type: 'string' },
      'max-range-messages': { type: 'string' },
      'max-range-bytes': { type: 'string' },
      'flush-interval-ms': { type: 'string' },
      'start-from': { type: 'string' },
      'storage-class': { type: 'string' },
      sse: { type: 'string' },
      'kms-key-id': { type: 'string' },
      'finalize-lateness-ms': { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      partition: { type: 'string' },
      'from-offset': { type: 'string' },
      'to-offset': { type: 'string' },
      'from-time': { type: 'string' },
      'to-time': { type: 'string' },
      deep: { type: 'boolean', default: false },
      fresh: { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
    },
  });
  const [cmd, sub, arg] = positionals;
  const helpKey =
    cmd === 'topics' && sub === 'add'
      ? 'topics add'
      : cmd === 'audit'
        ? 'audit'
        : cmd === 'replay'
          ? 'replay start'
          : cmd === 'recover'
            ? 'recover'
            : 'main';
  if (values.help || !cmd) {
    process.stdout.write(`${HELP[helpKey]}\n`);
    return cmd || values.help ? EXIT.OK : EXIT.USAGE;
  }
  const apiUrl = values['api-url'] ?? env.SLUICE_API_URL ?? 'http://127.0.0.1:8080';
  const token = apiToken(values, env);
  const api = createApiClient(apiUrl, token);
  const json = values.json ?? false;
  const needTopic = () => arg ?? usage(`sluice ${cmd} ${sub} needs a topic name`);

  if (cmd === 'topics') {
    switch (sub) {
      case 'add': {
        if (!values.bucket) usage('--bucket is required', 'topics add');
        const body: Record<string, unknown> = {
          topic: needTopic(),
          destination: { bucket: values.bucket, prefix: values.prefix ?? '' },
          format: values.format,
          compression: values.compression,
          partitionBy: parsePartitionBy(values['partition-by']),
          maxRangeMessages: intOpt('max-range-messages', values['max-range-messages']),
          maxRangeBytes: intOpt('max-range-bytes', values['max-range-bytes']),
          flushIntervalMs: intOpt('flush-interval-ms', values['flush-interval-ms']),
          startFrom: values['start-from'],
          storageClass: values['storage-class'],
          serverSideEncryption: values.sse,
          kmsKeyId: values['kms-key-id'],
          finalizeLatenessMs: intOpt('finalize-lateness-ms', values['finalize-lateness-ms']),
        };
        for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
        if (values['dry-run']) {
          const dry = await api.call<DryRunView>('POST', '/api/v1/topics?dryRun=true', body);
          out(json, dry, () => dryRunText(dry));
          return EXIT.OK;
        }
        const rec = await api.call<TopicRecordAnswer>('POST', '/api/v1/topics', body);
        out(
          json,
          rec,
          () =>
            `registered ${rec.topic} -> s3://${rec.destination.bucket}/${rec.destination.prefix ? `${rec.destination.prefix}/` : ''}${rec.topic}/`,
        );
        return EXIT.OK;
      }
      case 'list': {
        const list = await api.call<TopicListAnswer>('GET', '/api/v1/topics');
        const topics = list.topics;
        out(json, list, () =>
          table(
            ['TOPIC', 'STATE', 'PAUSED', 'DESTINATION', 'FORMAT', 'PARTITION BY'],
            topics.map((t) => [
              t.topic,
              t.state,
              t.paused ? 'yes' : 'no',
              `s3://${t.destination.bucket}/${t.destination.prefix ?? ''}`,
              `${t.format}/${t.compression}`,
              t.partitionBy.kind === 'none'
                ? 'none'
                : `${t.partitionBy.kind}:${t.partitionBy.field ? `${t.partitionBy.field}:` : ''}${t.partitionBy.granularity}`,
            ]),
          ),
        );
        return EXIT.OK;
      }
      case 'show': {
        const t = await api.call<TopicDetailAnswer>(
          'GET',
          `/api/v1/topics/${encodeURIComponent(needTopic())}`,
        );
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
        const t = await api.call<TopicRecordAnswer>(
          'PATCH',
          `/api/v1/topics/${encodeURIComponent(needTopic())}`,
          {
            paused: sub === 'pause',
          },
        );
        out(json, t, () => `${t.topic} ${t.paused ? 'paused' : 'resumed'}`);
        return EXIT.OK;
      }
      case 'remove':
      case 'delete': {
        const force = values.force ?? false;
        const t = await api.call<TopicRecordAnswer>(
          'DELETE',
          `/api/v1/topics/${encodeURIComponent(needTopic())}${force ? '?force=true' : ''}`,
        );
        out(json, t, () =>
          force
            ? `${needTopic()} is being removed: unfinished ranges are abandoned and recorded (the audit lists them), then its state in ZooKeeper goes; S3 is left alone`
            : `${needTopic()} is being removed: ranges in flight finish, then its state in ZooKeeper goes; S3 is left alone`,
        );
        return EXIT.OK;
      }
      default:
        return usage(sub ? `unknown command "topics ${sub}"` : 'sluice topics needs a command');
    }
  }
  if (cmd === 'status') {
    const s = await api.call<StatusAnswer>('GET', '/api/v1/status');
    out(json, s, () => statusText(s));
    return EXIT.OK;
  }
  if (cmd === 'workers') {
    const w = await api.call<WorkerListAnswer>('GET', '/api/v1/workers');
    const workers = w.workers;
    out(json, w, () =>
      workers.length === 0
        ? 'no worker is alive'
        : table(
            ['WORKER', 'HOST', 'ACTIVE', 'UP', 'VERSION', 'ADDRESS'],
            workers.map((x) => [
              x.id,
              x.host,
              `${x.activeRanges}/${x.concurrency}`,
              formatDuration(Date.now() - Date.parse(x.startedAt)),
              x.version,
              x.httpAddress,
            ]),
          ),
    );
    return EXIT.OK;
  }
  if (cmd === 'audit') {
    // A whole-topic or --deep audit reads a lot from S3: wait for it as long as it takes (1 h).
    const patient = createApiClient(apiUrl, token, 3_600_000);
    return auditCommand(patient, sub, values, json);
  }
  if (cmd === 'replay') {
    const partitionBy = values['partition-by'] ? parsePartitionBy(values['partition-by']) : undefined;
    return replayCommand(api, sub, arg, { ...values, partitionBy }, json);
  }
  if (cmd === 'recover') return recoverCommand(api, values, json);
  if (cmd === 'ranges' && sub === 'retry') {
    const id = arg ?? usage('sluice ranges retry needs a range id: {topic}-{partition}-{start}-{end}');
    const r = await api.call<{ result?: string; attempt?: number }>(
      'POST',
      `/api/v1/ranges/${encodeURIComponent(id)}/retry`,
    );
    // A retry already pending or queued changes nothing: say so rather than "requested".
    out(json, r, () =>
      r.result === 'already-queued'
        ? `attempt ${r.attempt} of ${id} is already queued; nothing changed`
        : r.result === 'already-requested'
          ? `retry of ${id} already requested; nothing changed`
          : `retry of ${id} requested`,
    );
    return EXIT.OK;
  }
  return usage(`unknown command "${[cmd, sub].filter(Boolean).join(' ')}"`);
}

export async function main(): Promise<void> {
  try {
    process.exitCode = await run(process.argv.slice(2));
  } catch (err) {
    if (err instanceof CliError) {
      process.stderr.write(`sluice: ${escapeForTerminal(err.message)}\n`);
      process.exitCode = err.exitCode;
    } else if (err instanceof TypeError && (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`sluice: ${escapeForTerminal(err.message)}\n\n${HELP.main}\n`);
      process.exitCode = EXIT.USAGE;
    } else {
      process.stderr.write(
        `sluice: unexpected error: ${escapeForTerminal(err instanceof Error ? String(err.stack) : String(err))}\n`,
      );
      process.exitCode = 1;
    }
  }
}
