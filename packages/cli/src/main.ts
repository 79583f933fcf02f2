/**
 * `sluice`: the operator CLI, a thin client of the master's REST API, installed on its own
 * (`npm pack` in packages/cli): it imports nothing of the master at run time.
 *
 * Reads SLUICE_API_URL (default http://127.0.0.1:8080) and SLUICE_API_TOKEN (or the file
 * SLUICE_API_TOKEN_FILE names), or --api-url and --token / --token-file (a --token is visible
 * to every user of the machine in `ps`, so the help says to prefer the others). Human tables
 * by default, --json for scripts. Exit codes: 0 done, 1 the API said no, 2 bad usage, 3 the
 * master could not be reached, 4 a check found problems.
 */
import { parseArgs } from 'node:util';
import type { StatusAnswer, WorkerListAnswer } from '@sluice/master/answer-types';
import { readSecretFile } from '../../shared/src/secret-file.ts';
import { CliError, createApiClient, EXIT } from './api-client.ts';
import { APPLY_HELP, applyCommand, exportCommand } from './apply-command.ts';
import { commandOf, GROUPS, OPTIONS, refuseForeignOptions } from './command-table.ts';
import { completionScript } from './completion.ts';
import { auditCommand, INTEGRITY_HELP, replayCommand } from './integrity-commands.ts';
import { PATTERNS_HELP, patternsCommand } from './pattern-commands.ts';
import { RECOVER_HELP, recoverCommand } from './recover-command.ts';
import { statusText } from './status-text.ts';
import { formatDuration, table } from './table.ts';
import { escapeForTerminal, printAnswer } from './terminal-text.ts';
import { parsePartitionBy, TOPICS_HELP, topicsCommand } from './topic-commands.ts';
import { cliVersion } from './version.ts';

const HELP: Record<string, string> = {
  main: `sluice — operate a Sluice installation through its master's REST API

usage: sluice <command> [options]

commands:
  topics add <topic> --bucket B [...]   register a topic (see: sluice topics add --help)
  topics update <topic> [...]           change its policy (see: sluice topics update --help)
  topics list                           registered topics
  topics show <topic>                   config and per-partition progress
  topics pause <topic>                  stop planning new ranges (ranges in flight finish)
  topics resume <topic>                 resume planning
  topics remove <topic>                 unregister (ranges in flight finish; S3 is left alone)
  topics delete <topic> [--force]       the same; --force abandons unfinished ranges (recorded,
                                        reported by the audit) for a topic stuck in deleting
  patterns add <name> <regex> --bucket B   register every topic whose name matches, now and
                                        later (see: sluice patterns add --help)
  patterns list | show <name> | delete <name>   topic patterns, the topics each registered
  status                                leader, lag in records and time, throughput,
                                        per-topic progress, workers, failures, gaps
  workers                               live workers and their active ranges
  ranges retry <range-id>               requeue a range ({topic}-{partition}-{start}-{end})
  audit <topic> [--deep]                is everything in S3, exactly once? (see: sluice audit --help)
  replay start <topic> --bucket B ...   export a window again (see: sluice replay start --help)
  replay list | show <id> | cancel <id> replays and their progress
  recover --bucket B [--prefix P]       after ZooKeeper lost its data: register the topics
                                        again from S3 (see: sluice recover --help)
  apply -f FILE [--dry-run] [--prune]   make the registered topics what a topics file says
                                        (see: sluice apply --help)
  export [-o FILE]                      the registered topics as a topics file
  completion bash|zsh                   shell completion: source <(sluice completion bash)

options (every command):
  --api-url URL   master address (default $SLUICE_API_URL or http://127.0.0.1:8080)
  --token T       bearer token for changes (default $SLUICE_API_TOKEN); anyone on this
                  machine sees it in \`ps\`: prefer $SLUICE_API_TOKEN or --token-file
  --token-file F  read the token from file F (default $SLUICE_API_TOKEN_FILE)
  --json          print the API's JSON answer instead of a table
  -h, --help      help
  --version       the CLI's version

exit codes: 0 ok, 1 the API refused or failed, 2 usage error, 3 master unreachable,
            4 a check found problems (audit)`,
  ...TOPICS_HELP,
  ...PATTERNS_HELP,
  ...INTEGRITY_HELP,
  ...RECOVER_HELP,
  ...APPLY_HELP,
};

function usage(msg: string): never {
  throw new CliError(`${msg}\n\n${HELP.main}`, EXIT.USAGE);
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
    options: OPTIONS,
  });
  if (values.version) {
    process.stdout.write(`${cliVersion()}\n`);
    return EXIT.OK;
  }
  const command = commandOf(positionals);
  const [cmd, sub, arg] = positionals;
  if (values.help || !cmd) {
    // One help page tells of every replay command.
    const page = cmd === 'replay' ? 'replay start' : command;
    process.stdout.write(`${HELP[page ?? 'main'] ?? HELP.main}\n`);
    return cmd || values.help ? EXIT.OK : EXIT.USAGE;
  }
  if (command === undefined) {
    return usage(
      GROUPS.has(cmd)
        ? sub
          ? `unknown command "${cmd} ${sub}"`
          : `sluice ${cmd} needs a command`
        : `unknown command "${cmd}"`,
    );
  }
  refuseForeignOptions(command, Object.keys(values));
  if (command === 'completion') {
    process.stdout.write(completionScript(sub));
    return EXIT.OK;
  }
  const apiUrl = values['api-url'] ?? env.SLUICE_API_URL ?? 'http://127.0.0.1:8080';
  const token = apiToken(values, env);
  const api = createApiClient(apiUrl, token);
  const json = values.json ?? false;

  if (cmd === 'topics') return topicsCommand(api, sub, arg, values, json);
  if (cmd === 'patterns') return patternsCommand(api, sub, arg, positionals[3], values, json);
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
  if (cmd === 'apply') return applyCommand(api, values, json);
  if (cmd === 'export') return exportCommand(api, values);
  // ranges retry
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
