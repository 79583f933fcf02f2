/**
 * `sluice apply -f FILE [--dry-run] [--prune]` and `sluice export [-o FILE]`: topics kept as a
 * file in git (packages/shared/src/topics-file.ts describes the format). Apply reads the file
 * through the master (the CLI carries no YAML parser), asks for every topic's plan with
 * `PUT …?dryRun=true`, prints one line per topic, and only when no topic was refused applies
 * it without a prompt: PUT for created and changed topics, DELETE for those the file no longer
 * names when --prune says so. A refused topic is reported at its line and nothing is applied.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type {
  TopicListAnswer,
  TopicsExportAnswer,
  TopicsFileAnswer,
  TopicUpsertAnswer,
} from '@sluice/master/answer-types';
import { entryProblemText, type TopicsFileEntry } from '../../shared/src/topics-file-entry.ts';
import { type ApiClient, CliError, EXIT } from './api-client.ts';
import { escapeForTerminal, printAnswer } from './terminal-text.ts';

export const APPLY_HELP: Record<string, string> = {
  apply: `usage: sluice apply -f FILE [--dry-run] [--prune]

Makes the registered topics what the topics file FILE (YAML or JSON) says: topics it names
and Sluice does not have are registered, those that differ are changed (each change applies
to ranges planned afterwards, or at once for range sizes and flush interval), the others are
left untouched. One line per topic:

  create orders
  change payments: flushIntervalMs 600000 → 60000, compression gzip → zstd (new ranges)
  unchanged clicks
  not in file old-topic          (registered, left alone; --prune deletes it)

Every topic is checked by the master first (PUT ?dryRun=true); when one is refused, its
file:line and the reason are printed and nothing is applied. Then it applies without a prompt.

  -f, --file FILE  the topics file (the README describes its format)
  --dry-run        show the plan only; change nothing
  --prune          delete registered topics the file does not name (ranges in flight finish;
                   S3 is left alone)

exit codes: 0 applied (or nothing to do), 1 the file or a topic was refused, 2-3 as for every command`,
  export: `usage: sluice export [-o FILE]

Prints the registered topics (not those being deleted) as a topics file: every field a
registration sets, none Sluice decided, sorted by topic. Applying it changes nothing.

  -o, --output FILE  write it to FILE instead of stdout`,
};

interface ApplyOptions {
  file?: string | undefined;
  'dry-run'?: boolean | undefined;
  prune?: boolean | undefined;
}

type Plan =
  | { kind: 'put'; entry: TopicsFileEntry; answer: TopicUpsertAnswer }
  | { kind: 'delete'; topic: string }
  | { kind: 'not-in-file'; topic: string };

/** `flushIntervalMs 600000 → 60000`: a value as a person reads it, objects as JSON. */
function shown(value: unknown): string {
  if (value === undefined) return '(default)';
  return typeof value === 'string' || typeof value === 'number' ? String(value) : JSON.stringify(value);
}

/** The plan's line of one topic. */
export function planLine(plan: Plan, dryRun: boolean): string {
  if (plan.kind === 'delete') return `${dryRun ? 'would delete' : 'delete'} ${plan.topic}`;
  if (plan.kind === 'not-in-file') return `not in file ${plan.topic} (left alone; --prune deletes it)`;
  const { answer, entry } = plan;
  if (answer.result === 'created') return `create ${entry.topic}`;
  if (answer.result === 'unchanged') return `unchanged ${entry.topic}`;
  const changes = answer.changes.map(
    (c) => `${c.field} ${shown(c.from)} → ${shown(c.to)}${c.applies === 'new-ranges' ? ' (new ranges)' : ''}`,
  );
  return `change ${entry.topic}: ${changes.join(', ')}`;
}

function topicPath(topic: string, dryRun: boolean): string {
  return `/api/v1/topics/${encodeURIComponent(topic)}${dryRun ? '?dryRun=true' : ''}`;
}

/** The master's refusal of one topic, at the file's line of the field it names. */
function refusalLines(fileName: string, entry: TopicsFileEntry, err: unknown): string[] {
  if (!(err instanceof CliError) || !err.refusal || err.refusal.status >= 500) throw err;
  const { problems, message, code } = err.refusal;
  const found = problems.length > 0 ? problems : [{ path: '', message }];
  return found.map((p) => `${entryProblemText(fileName, entry, p)}${code ? ` [${code}]` : ''}`);
}

export async function applyCommand(api: ApiClient, values: ApplyOptions, json: boolean): Promise<number> {
  const fileName = values.file;
  if (!fileName) throw new CliError(`sluice apply needs -f FILE\n\n${APPLY_HELP.apply}`, EXIT.USAGE);
  let text: string;
  try {
    text = readFileSync(fileName, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${fileName}: ${(err as Error).message}`, EXIT.USAGE);
  }
  const dryRun = values['dry-run'] ?? false;
  // The file's own mistakes come back as one message naming file:line:column.
  const file = await api.call<TopicsFileAnswer>('POST', '/api/v1/topics-file/parse', { fileName, text });
  const registered = await api.call<TopicListAnswer>('GET', '/api/v1/topics');

  const plans: Plan[] = [];
  const refusals: string[] = [];
  for (const entry of file.topics) {
    try {
      const answer = await api.call<TopicUpsertAnswer>('PUT', topicPath(entry.topic, true), entry.body);
      plans.push({ kind: 'put', entry, answer });
    } catch (err) {
      refusals.push(...refusalLines(fileName, entry, err));
    }
  }
  const named = new Set(file.topics.map((t) => t.topic));
  for (const t of registered.topics) {
    // A topic a pattern registered is the pattern's, not the file's: never pruned from here.
    if (named.has(t.topic) || t.state === 'deleting' || t.pattern) continue;
    plans.push(values.prune ? { kind: 'delete', topic: t.topic } : { kind: 'not-in-file', topic: t.topic });
  }

  if (refusals.length > 0) {
    const lines = [...refusals, `${fileName}: ${refusals.length} refused; nothing was applied`];
    throw new CliError(lines.join('\n'), EXIT.API_ERROR);
  }
  const done: Array<{ topic: string; result: string }> = [];
  if (!dryRun) {
    for (const plan of plans) {
      if (plan.kind === 'delete') {
        await api.call('DELETE', topicPath(plan.topic, false));
        done.push({ topic: plan.topic, result: 'deleted' });
      } else if (plan.kind === 'put' && plan.answer.result !== 'unchanged') {
        try {
          const answer = await api.call<TopicUpsertAnswer>(
            'PUT',
            topicPath(plan.entry.topic, false),
            plan.entry.body,
          );
          done.push({ topic: plan.entry.topic, result: answer.result });
        } catch (err) {
          // Refused now though its dry run passed (the cluster moved): go on, report, exit 1.
          refusals.push(...refusalLines(fileName, plan.entry, err));
        }
      }
    }
  }
  const count = (kind: string) =>
    plans.filter((p) => (p.kind === 'put' ? p.answer.result : p.kind) === kind).length;
  const left = count('not-in-file') > 0 ? `, ${count('not-in-file')} not in file` : '';
  const summary = dryRun
    ? `dry run, nothing applied: ${count('created')} to create, ${count('changed')} to change, ${count('unchanged')} unchanged, ${count('delete')} to delete${left}`
    : `applied: ${count('created')} created, ${count('changed')} changed, ${count('unchanged')} unchanged, ${count('delete')} deleted${left}`;
  printAnswer(json, { dryRun, plan: plans.map(planJson), applied: done, refused: refusals }, () =>
    [...plans.map((p) => planLine(p, dryRun)), summary].join('\n'),
  );
  if (refusals.length > 0) {
    process.stderr.write(`${escapeForTerminal(refusals.join('\n'))}\n`);
    return EXIT.API_ERROR;
  }
  return EXIT.OK;
}

function planJson(p: Plan): Record<string, unknown> {
  if (p.kind !== 'put') return { topic: p.topic, result: p.kind };
  return { topic: p.entry.topic, line: p.entry.line, result: p.answer.result, changes: p.answer.changes };
}

export async function exportCommand(
  api: ApiClient,
  values: { output?: string | undefined },
): Promise<number> {
  const answer = await api.call<TopicsExportAnswer>('GET', '/api/v1/topics-file');
  if (values.output) {
    writeFileSync(values.output, answer.text);
    process.stderr.write(`${escapeForTerminal(`${answer.topics} topics written to ${values.output}`)}\n`);
  } else process.stdout.write(escapeForTerminal(answer.text));
  return EXIT.OK;
}
