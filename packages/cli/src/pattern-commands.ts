/**
 * `sluice patterns …`: create (`add`), look at (`list`, `show`) and delete topic patterns, as
 * thin clients of `/api/v1/patterns`. `add` reads the same policy options as `sluice topics add`
 * into the pattern's `settings`, so a pattern registers its topics as that command would.
 */
import type { PatternListAnswer, PatternViewAnswer } from '@sluice/master/answer-types';
import { type ApiClient, CliError, EXIT } from './api-client.ts';
import { formatCount, table } from './table.ts';
import { printAnswer as out } from './terminal-text.ts';
import { parseStartFrom, policyBody, type TopicOptions } from './topic-commands.ts';

export const PATTERNS_HELP: Record<string, string> = {
  'patterns add': `usage: sluice patterns add <name> <regex> --bucket B [--exclude REGEX]... [options]

Registers every Kafka topic whose WHOLE name matches <regex> (a JavaScript regular expression,
e.g. 'orders\\.(eu|us)\\..*'), now and as topics appear, with the options given. Internal topics
(names starting with "_", connect-configs/-offsets/-status) are taken only when <regex> writes
their full name. A topic two patterns take belongs to the one created first.

  --exclude REGEX            a topic matching it (whole name) is not taken; repeat for more
  --bucket B  --prefix P  --format F  --compression C  --partition-by P
  --max-range-messages N  --max-range-bytes SIZE  --flush-interval-ms TIME
  --storage-class S  --sse S  --kms-key-id K  --finalize-lateness-ms TIME  --mirror-group G
  --start-from S  --start-fallback S   as for sluice topics add (not offsets=…)`,
};

export interface PatternOptions extends TopicOptions {
  exclude?: string[] | undefined;
}

function usage(msg: string): never {
  throw new CliError(`${msg}\n\n${PATTERNS_HELP['patterns add']}`, EXIT.USAGE);
}

function patternText(p: PatternViewAnswer): string {
  const d = p.settings.destination as { bucket: string; prefix?: string };
  const lines = [
    `pattern:  ${p.name}  ${p.pattern}`,
    `exclude:  ${p.exclude.length > 0 ? p.exclude.join('  ') : '-'}`,
    `to:       s3://${d.bucket}/${d.prefix ? `${d.prefix}/` : ''}{topic}/`,
    `topics:   ${p.topics.length > 0 ? p.topics.join(', ') : 'none registered yet'}`,
  ];
  if (p.deletedTopics.length > 0) lines.push(`deleted:  ${p.deletedTopics.join(', ')} (not taken again)`);
  const d2 = p.discovery;
  if (d2) {
    lines.push(`last pass ${d2.at}: ${formatCount(d2.registered.length)} registered`);
    for (const r of d2.refused) lines.push(`  refused ${r.topic}: ${r.error}`);
    for (const c of d2.contested) lines.push(`  ${c.topic} taken by pattern ${c.takenBy}`);
  }
  return lines.join('\n');
}

/** `sluice patterns <verb> [name] [regex]`. */
export async function patternsCommand(
  api: ApiClient,
  verb: string | undefined,
  name: string | undefined,
  regex: string | undefined,
  o: PatternOptions,
  json: boolean,
): Promise<number> {
  const named = () => name ?? usage(`sluice patterns ${verb} needs a pattern name`);
  const path = () => `/api/v1/patterns/${encodeURIComponent(named())}`;
  switch (verb) {
    case 'add': {
      if (regex === undefined) usage('sluice patterns add needs a name and a regular expression');
      if (!o.bucket) usage('--bucket is required');
      const body = {
        name: named(),
        pattern: regex,
        exclude: o.exclude ?? [],
        settings: {
          destination: { bucket: o.bucket, prefix: o.prefix ?? '' },
          ...policyBody(o),
          ...(o['start-from'] === undefined
            ? {}
            : { startFrom: parseStartFrom(o['start-from'], o['start-fallback']) }),
        },
      };
      const p = await api.call<PatternViewAnswer>('POST', '/api/v1/patterns', body);
      out(
        json,
        p,
        () => `pattern ${p.name} created: the leader registers the topics it takes\n${patternText(p)}`,
      );
      return EXIT.OK;
    }
    case 'list': {
      const list = await api.call<PatternListAnswer>('GET', '/api/v1/patterns');
      out(json, list, () =>
        list.patterns.length === 0
          ? 'no topic patterns (sluice patterns add <name> <regex> --bucket B)'
          : table(
              ['PATTERN', 'REGEX', 'EXCLUDE', 'TOPICS', 'REFUSED'],
              list.patterns.map((p) => [
                p.name,
                p.pattern,
                p.exclude.length > 0 ? p.exclude.join(' ') : '-',
                p.topics.length,
                p.discovery ? p.discovery.refused.length : '-',
              ]),
            ),
      );
      return EXIT.OK;
    }
    case 'show': {
      const p = await api.call<PatternViewAnswer>('GET', path());
      out(json, p, () => patternText(p));
      return EXIT.OK;
    }
    case 'delete': {
      const p = await api.call<PatternViewAnswer>('DELETE', path());
      out(
        json,
        p,
        () =>
          `pattern ${p.name} deleted; its topics stay registered (${p.topics.length > 0 ? p.topics.join(', ') : 'none'})`,
      );
      return EXIT.OK;
    }
    default:
      throw new CliError(
        `${verb ? `unknown command "patterns ${verb}"` : 'sluice patterns needs a command'} (sluice --help lists them)`,
        EXIT.USAGE,
      );
  }
}
