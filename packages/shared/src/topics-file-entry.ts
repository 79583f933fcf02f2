/**
 * What a parsed topics file is (topics-file.ts parses it), and how a refusal of one of its
 * topics is reported at the line it came from. Apart from the parser because the `sluice` CLI
 * compiles this file in (it installs with no dependencies, so without the YAML parser: the
 * master parses the file for it) and reports the master's refusals with it: it imports nothing.
 */

/** One topic of the file: its registration body and where it was written. */
export interface TopicsFileEntry {
  topic: string;
  /** The POST /api/v1/topics body: `defaults` merged under the entry. */
  body: Record<string, unknown>;
  /** Line (1-based) of the entry's first field. */
  line: number;
  /** Line of each top-level field of the body (the `defaults` line for one it took from there). */
  fieldLines: Record<string, number>;
}

export interface TopicsFile {
  fileName: string;
  /** `prune: true` in the file (the master's file mode deletes only then). */
  prune: boolean;
  topics: TopicsFileEntry[];
}

/**
 * Fields of a topic's GET answer that a registration does not set (what Sluice learned or
 * decided, and the live views): left out of an export. PUT accepts and ignores them.
 * `resume` is the registration's one-time decision, not the config: also left out.
 */
export const TOPIC_READ_ONLY_FIELDS = [
  'topicId',
  'paused',
  'state',
  'error',
  'createdAt',
  'updatedAt',
  'resume',
  'starts',
  'forcedAt',
  'pastDestinations',
  'summary',
  'kafkaError',
  'partitions',
] as const;

/**
 * `topics.yaml:14: orders: flushIntervalMs: must be …`: a problem the master found in an
 * entry's body, at the line of the field it names (`destination.bucket` → `destination:`'s).
 */
export function entryProblemText(
  fileName: string,
  entry: TopicsFileEntry,
  problem: { path: string; message: string },
): string {
  const field = problem.path.replace(/^body\.?/, '').split(/[.[]/)[0] ?? '';
  const line = entry.fieldLines[field] ?? entry.line;
  return `${fileName}:${line}: ${entry.topic}: ${problem.path ? `${problem.path}: ` : ''}${problem.message}`;
}
