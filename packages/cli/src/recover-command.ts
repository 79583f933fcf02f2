/**
 * `sluice recover --bucket B [--prefix P] [--dry-run]`: the operator's side of
 * `POST /api/v1/recover` (topics/topic-recovery.ts), for when ZooKeeper's data was lost. Prints
 * one line per topic and partition: where it goes on, how many commit records say so, and any
 * hole found; then why a topic was not recovered. Exit 4 when a topic needs the operator.
 */
import type { RecoverAnswer } from '@sluice/master/answer-types';
import { type ApiClient, CliError, EXIT } from './api-client.ts';
import { table } from './table.ts';
import { printAnswer } from './terminal-text.ts';

export const RECOVER_HELP = {
  recover: `usage: sluice recover --bucket B [--prefix P] [--dry-run]

Registers again, from S3 alone, the topics whose registrations ZooKeeper lost: the topic
folders directly below s3://B/P/ are scanned for the config object Sluice writes beside
their commit records (_sluice/config.json); each topic ZooKeeper does not have is registered
from it, every partition going on at the end of its contiguous commit records. Topics still
registered are left alone, deleted ones are not brought back; a topic Kafka re-created
(other topic id) is reported, not resumed.
Run it against a master on the new (or emptied) ZooKeeper; once per destination used.

  --bucket B    destination bucket the topics were registered with (required)
  --prefix P    key prefix they were registered with (default: none)
  --dry-run     show what would be recovered; register nothing

exit codes: 0 every topic found was recovered (or already registered, or deleted), 4 a topic was not
            (its line says why), 1-3 as for every command`,
};

/** Outcomes that leave nothing for the operator to do. */
const SETTLED = new Set(['recovered', 'would-recover', 'already-registered', 'deleted']);

/** The text of a recovery answer: one line per topic and partition, then what needs the operator. */
export function recoverText(r: RecoverAnswer): string {
  const rows: Array<Array<string | number | null>> = [];
  for (const t of r.topics) {
    if (t.partitions.length === 0) rows.push([t.topic, null, null, null, null, t.outcome]);
    for (const p of t.partitions) {
      const hole = p.hole ? `${p.hole.from}-${p.hole.to}` : null;
      rows.push([t.topic, p.partition, p.committedOffset, p.commitRecords, hole, t.outcome]);
    }
  }
  const lines = [
    r.topics.length === 0
      ? 'no config object found: no topic to recover there (is --prefix the one the topics were registered with?)'
      : table(['TOPIC', 'PARTITION', 'COMMITTED', 'COMMIT-RECORDS', 'HOLE', 'OUTCOME'], rows),
  ];
  for (const t of r.topics) if (!SETTLED.has(t.outcome)) lines.push(`${t.topic}: ${t.message}`);
  for (const p of r.problems) lines.push(`s3://${p.bucket}/${p.key}: ${p.problem}`);
  if (r.dryRun) lines.push('dry run: nothing was registered');
  return lines.join('\n');
}

export async function recoverCommand(
  api: ApiClient,
  values: { bucket?: string; prefix?: string; 'dry-run'?: boolean },
  json: boolean,
): Promise<number> {
  if (!values.bucket)
    throw new CliError(`sluice recover needs --bucket\n\n${RECOVER_HELP.recover}`, EXIT.USAGE);
  const r = await api.call<RecoverAnswer>('POST', '/api/v1/recover', {
    destinations: [{ bucket: values.bucket, prefix: values.prefix ?? '' }],
    dryRun: values['dry-run'] ?? false,
  });
  printAnswer(json, r, () => recoverText(r));
  const settled = r.topics.every((t) => SETTLED.has(t.outcome)) && r.problems.length === 0;
  return settled ? EXIT.OK : EXIT.PROBLEMS;
}
