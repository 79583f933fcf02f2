/**
 * Which commands `sluice` has and which options each takes, stated once: the argument parser,
 * the refusal of an option given to a command it does not belong to (`sluice status --bucket
 * b` is a mistake, not something to ignore) and the shell completion all read this table, so
 * a new option cannot be accepted by one and unknown to the others.
 */
import type { ParseArgsOptionsConfig } from 'node:util';
import { CliError, EXIT } from './api-client.ts';

/** Options every command takes. */
const GLOBAL = ['api-url', 'token', 'token-file', 'json', 'help', 'version'] as const;

/** Every option, with how node:util's parseArgs reads it (booleans have no default: given or not). */
export const OPTIONS = {
  'api-url': { type: 'string' },
  token: { type: 'string' },
  'token-file': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  bucket: { type: 'string' },
  prefix: { type: 'string' },
  format: { type: 'string' },
  compression: { type: 'string' },
  'partition-by': { type: 'string' },
  'max-range-messages': { type: 'string' },
  'max-range-bytes': { type: 'string' },
  'flush-interval-ms': { type: 'string' },
  'start-from': { type: 'string' },
  'start-fallback': { type: 'string' },
  'mirror-group': { type: 'string' },
  schema: { type: 'string' },
  'key-template': { type: 'string' },
  'storage-class': { type: 'string' },
  sse: { type: 'string' },
  'kms-key-id': { type: 'string' },
  'finalize-lateness-ms': { type: 'string' },
  'dry-run': { type: 'boolean' },
  partition: { type: 'string' },
  'from-offset': { type: 'string' },
  'to-offset': { type: 'string' },
  'from-time': { type: 'string' },
  'to-time': { type: 'string' },
  deep: { type: 'boolean' },
  fresh: { type: 'boolean' },
  force: { type: 'boolean' },
  file: { type: 'string', short: 'f' },
  prune: { type: 'boolean' },
  output: { type: 'string', short: 'o' },
  exclude: { type: 'string', multiple: true },
} as const satisfies ParseArgsOptionsConfig;

export type OptionName = keyof typeof OPTIONS;

/** Where and how output is written: options of registrations and of replays alike. */
const OUTPUT = [
  'bucket',
  'prefix',
  'format',
  'compression',
  'partition-by',
  'max-range-messages',
] as const satisfies readonly OptionName[];

/** The options of a topic's policy: what `topics add` sets and `topics update` changes. */
const POLICY = [
  ...OUTPUT,
  'max-range-bytes',
  'flush-interval-ms',
  'storage-class',
  'sse',
  'kms-key-id',
  'finalize-lateness-ms',
  'mirror-group',
  'schema',
  'key-template',
] as const satisfies readonly OptionName[];

/** Each command (group and verb, e.g. `topics add`) and its own options, in the order of the help. */
export const COMMANDS: Readonly<Record<string, readonly OptionName[]>> = {
  'topics add': [...POLICY, 'start-from', 'start-fallback', 'dry-run'],
  'topics update': POLICY,
  'topics list': [],
  'topics show': [],
  'topics pause': [],
  'topics resume': [],
  'topics remove': [],
  'topics delete': ['force'],
  'patterns add': [...POLICY, 'exclude', 'start-from', 'start-fallback'],
  'patterns list': [],
  'patterns show': [],
  'patterns delete': [],
  status: [],
  workers: [],
  'ranges retry': [],
  audit: ['partition', 'from-offset', 'to-offset', 'deep', 'fresh'],
  'replay start': [...OUTPUT, 'partition', 'from-offset', 'to-offset', 'from-time', 'to-time'],
  'replay list': [],
  'replay show': [],
  'replay cancel': [],
  recover: ['bucket', 'prefix', 'dry-run'],
  apply: ['file', 'dry-run', 'prune'],
  export: ['output'],
  completion: [],
};

/** Commands with verbs (`topics add`); the others are one word (`status`). */
export const GROUPS: ReadonlySet<string> = new Set(
  Object.keys(COMMANDS)
    .filter((c) => c.includes(' '))
    .map((c) => c.split(' ')[0] ?? ''),
);

/** Values an option takes from a fixed set, for completion (not --partition-by: bash splits its words at the colons). */
export const OPTION_VALUES: Partial<Record<OptionName, readonly string[]>> = {
  format: ['jsonl', 'raw', 'avro', 'parquet'],
  compression: ['gzip', 'zstd', 'none', 'deflate'],
  schema: ['registry'],
  'start-from': ['earliest', 'latest'],
  'start-fallback': ['earliest', 'latest'],
  sse: ['none', 'AES256', 'aws:kms'],
};

/** The table's key of the command the positionals name (`topics add`), or undefined. */
export function commandOf(positionals: readonly string[]): string | undefined {
  const [first, second] = positionals;
  if (first === undefined) return undefined;
  const key = GROUPS.has(first) ? `${first} ${second ?? ''}` : first;
  return key in COMMANDS ? key : undefined;
}

/** The options `command` accepts: its own and the global ones. */
export function optionsOf(command: string): readonly OptionName[] {
  return [...(COMMANDS[command] ?? []), ...GLOBAL];
}

/**
 * Refuses (exit 2) an option that `command` does not take, naming the commands it belongs to:
 * parseArgs knows every option of every command, so it alone would let `sluice status --bucket
 * b` pass, silently doing something else than meant.
 */
export function refuseForeignOptions(command: string, given: Iterable<string>): void {
  const own = new Set<string>(optionsOf(command));
  for (const option of given) {
    if (own.has(option)) continue;
    const owners = Object.keys(COMMANDS).filter((c) => (COMMANDS[c] as readonly string[]).includes(option));
    throw new CliError(
      `--${option} is an option of ${owners.map((c) => `"sluice ${c}"`).join(', ')}, not of "sluice ${command}" (sluice ${command} --help lists its options)`,
      EXIT.USAGE,
    );
  }
}
