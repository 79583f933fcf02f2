/**
 * The topics file: a platform team's registered topics kept in git, applied by `sluice apply -f`
 * and, mounted into the master, converged to (SLUICE_TOPICS_FILE). Pure: text in, POST bodies
 * out, or one SLUICE_ERR_TOPICS_FILE error naming `file:line:column` and the fix.
 *
 * The format (YAML 1.2; JSON is YAML, so a JSON file reads the same; `#` starts a comment):
 *
 * ```yaml
 * apiVersion: 1          # optional; only 1 exists
 * prune: false           # optional; true: topics registered but not named here are deleted
 *                        # (the master's file mode; the CLI asks for --prune instead)
 * defaults:              # optional: merged under every entry (`destination` field by field,
 *   destination:         # every other field replaced whole by the entry's)
 *     bucket: data-lake
 *   compression: zstd
 * topics:                # required: a list of POST /api/v1/topics bodies
 *   - topic: orders
 *     destination: { prefix: raw }
 *     flushIntervalMs: 60000
 * ```
 *
 * Each entry is exactly a registration body, so whatever POST accepts works here, fields other
 * engineers add to it too; the master validates the fields (PUT ?dryRun=true), and this file
 * keeps each entry's line and the lines of its fields, so a refusal of `flushIntervalMs` is
 * reported at `topics.yaml:14`. Here only the file's shape is checked: its syntax, top-level
 * keys, a list of mappings each naming a topic, and no topic named twice.
 */
import {
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  stringify,
  visit,
  type YAMLMap,
} from 'yaml';
import { ErrorCodes, SluiceError } from './errors.ts';
import { TOPIC_READ_ONLY_FIELDS, type TopicsFile, type TopicsFileEntry } from './topics-file-entry.ts';

const TOP_LEVEL_KEYS = ['apiVersion', 'prune', 'defaults', 'topics'] as const;

function fail(fileName: string, at: { line: number; col: number } | undefined, message: string): never {
  const where = at ? `${fileName}:${at.line}:${at.col}` : fileName;
  throw new SluiceError(ErrorCodes.TOPICS_FILE, `${where}: ${message}`);
}

/** Parses and checks a topics file; throws SLUICE_ERR_TOPICS_FILE naming the line and the fix. */
export function parseTopicsFile(text: string, fileName: string): TopicsFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const pos = (node: Node | null | undefined) => (node?.range ? lines.linePos(node.range[0]) : undefined);
  const firstError = doc.errors[0];
  if (firstError) {
    const at = lines.linePos(firstError.pos[0]);
    const what = firstError.message.split('\n')[0] ?? 'syntax error';
    fail(fileName, at, `not valid YAML or JSON: ${what}; fix the syntax there`);
  }
  // Keys become field names: a key that is a list or a mapping, or one that could reach an
  // object's prototype, has no meaning here.
  visit(doc, {
    Pair(_key, pair) {
      const key = pair.key as Node | null;
      if (!isScalar(key)) fail(fileName, pos(key), 'a key must be a plain name, not a list or a mapping');
      if (key.value === '__proto__') fail(fileName, pos(key), 'the key __proto__ is not accepted; remove it');
    },
  });
  const root = doc.contents;
  if (isSeq(root)) {
    fail(fileName, pos(root), 'the file is a list; write the list under a `topics:` key (see the README)');
  }
  if (!isMap(root)) {
    fail(fileName, pos(root), 'expected a mapping with a `topics:` list of topics (see the README)');
  }
  let prune = false;
  let defaults: { value: Record<string, unknown>; line: number } | undefined;
  let topicsNode: Node | undefined;
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? pair.key.value : undefined;
    const value = pair.value as Node | null;
    const at = pos(pair.key as Node) ?? pos(root);
    if (key === 'apiVersion') {
      if (!isScalar(value) || value.value !== 1) fail(fileName, pos(value) ?? at, 'apiVersion must be 1');
    } else if (key === 'prune') {
      if (!isScalar(value) || typeof value.value !== 'boolean')
        fail(fileName, pos(value) ?? at, 'prune must be true or false');
      prune = value.value as boolean;
    } else if (key === 'defaults') {
      if (!isMap(value)) fail(fileName, pos(value) ?? at, 'defaults must be a mapping of topic fields');
      if (value.has('topic'))
        fail(fileName, pos(value), 'defaults must not name a topic: name it in each entry of `topics`');
      defaults = { value: plain(value, doc, fileName, pos(value)), line: at?.line ?? 1 };
    } else if (key === 'topics') {
      topicsNode = value ?? undefined;
    } else {
      fail(
        fileName,
        at,
        `unknown key ${JSON.stringify(key)}; a topics file has ${TOP_LEVEL_KEYS.join(', ')} (topic fields go into an entry of \`topics\` or into \`defaults\`)`,
      );
    }
  }
  if (topicsNode === undefined) fail(fileName, pos(root), 'missing `topics:` (a list of topics)');
  if (!isSeq(topicsNode))
    fail(fileName, pos(topicsNode), '`topics` must be a list (entries start with "- ")');

  const entries: TopicsFileEntry[] = [];
  const seen = new Map<string, number>();
  for (const item of topicsNode.items as Node[]) {
    const at = pos(item) ?? pos(topicsNode);
    if (!isMap(item)) fail(fileName, at, 'each entry of `topics` must be a mapping with at least `topic:`');
    const name = item.get('topic');
    if (typeof name !== 'string' || name === '')
      fail(fileName, at, 'the entry has no `topic:`; name the Kafka topic (a string)');
    const before = seen.get(name);
    if (before !== undefined)
      fail(fileName, at, `topic "${name}" is named twice (lines ${before} and ${at?.line}); keep one entry`);
    seen.set(name, at?.line ?? 1);
    entries.push(entryOf(item, doc, lines, { fileName, topic: name, at }, defaults));
  }
  return { fileName, prune, topics: entries };
}

/**
 * A mapping as plain values. Aliases that expand past the parser's limit (a "billion laughs"
 * file) throw here; that is the file's fault, reported as such.
 */
function plain(
  node: YAMLMap,
  doc: Parameters<Node['toJS']>[0],
  fileName: string,
  at: { line: number; col: number } | undefined,
): Record<string, unknown> {
  try {
    return node.toJS(doc, { maxAliasCount: 1000 }) as Record<string, unknown>;
  } catch (err) {
    return fail(
      fileName,
      at,
      `cannot be read: ${(err as Error).message}; expand the aliases (*name) by hand`,
    );
  }
}

function entryOf(
  item: YAMLMap,
  doc: Parameters<Node['toJS']>[0],
  lines: LineCounter,
  where: { fileName: string; topic: string; at: { line: number; col: number } | undefined },
  defaults: { value: Record<string, unknown>; line: number } | undefined,
): TopicsFileEntry {
  const { topic, at } = where;
  const line = at?.line ?? 1;
  const own = plain(item, doc, where.fileName, at);
  const fieldLines: Record<string, number> = {};
  for (const k of Object.keys(defaults?.value ?? {})) fieldLines[k] = defaults?.line ?? line;
  for (const pair of item.items) {
    const k = isScalar(pair.key) ? String(pair.key.value) : undefined;
    const range = (pair.key as Node | null)?.range;
    if (k !== undefined && range) fieldLines[k] = lines.linePos(range[0]).line;
  }
  const body: Record<string, unknown> = { ...defaults?.value, ...own };
  const dd = defaults?.value.destination;
  const od = own.destination;
  if (isPlainObject(dd) && isPlainObject(od)) body.destination = { ...dd, ...od };
  return { topic, body, line, fieldLines };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `topic` and `destination` lead; the other fields follow in name order, so exports diff cleanly. */
function orderedBody(topic: Record<string, unknown>): Record<string, unknown> {
  const readOnly = new Set<string>(TOPIC_READ_ONLY_FIELDS);
  const keys = Object.keys(topic)
    .filter((k) => !readOnly.has(k) && k !== 'topic' && k !== 'destination' && topic[k] !== undefined)
    .sort();
  const out: Record<string, unknown> = { topic: topic.topic };
  if (topic.destination !== undefined) out.destination = topic.destination;
  for (const k of keys) out[k] = topic[k];
  return out;
}

/**
 * The text of a topics file holding these topics (GET answers or records): sorted by name,
 * every field a registration sets written out and none Sluice decided, so that applying it to
 * the installation it came from changes nothing.
 */
export function formatTopicsFile(topics: ReadonlyArray<Record<string, unknown>>): string {
  const sorted = [...topics].sort((a, b) => String(a.topic).localeCompare(String(b.topic)));
  const text = stringify({ apiVersion: 1, topics: sorted.map(orderedBody) }, { lineWidth: 0 });
  return `# Sluice topics file: \`sluice apply -f\` it (the README describes the format).\n${text}`;
}
