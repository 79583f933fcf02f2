/**
 * Topic patterns (issue 16): a registration that names a regular expression instead of one
 * topic. This file is the contract of which Kafka topic a pattern takes, stated once and pure,
 * so that the API's validation, the leader's discovery and the tests agree:
 *
 *  - a pattern is a JavaScript regular expression that must match the WHOLE topic name (it is
 *    compiled as `^(?:pattern)$`; `orders\..*` does not take `old.orders.x`);
 *  - a topic matched by one of the pattern's `exclude` expressions (also whole-name) is not taken;
 *  - internal topics ({@link isInternalTopic}) are taken only when the pattern writes their full
 *    name literally (`__consumer_offsets`, `_schemas|orders\..*`), never through a wildcard;
 *  - a topic several patterns take belongs to the one registered first (then by name).
 *
 * Patterns are short and must not nest quantifiers (`(a+)+`), the shape whose backtracking on
 * a 249-character topic name can take minutes; JavaScript has no match timeout to fall back on.
 */
import type { Problem } from './errors.ts';

/** Longest `pattern` or `exclude` expression accepted. */
export const MAX_PATTERN_LENGTH = 500;
/** Most `exclude` expressions of one pattern. */
export const MAX_PATTERN_EXCLUDES = 100;

/**
 * Topics Kafka and the tools around it keep for themselves: every name starting with `_`
 * (Kafka's `__consumer_offsets`, `__transaction_state`, `__cluster_metadata`, Schema Registry's
 * `_schemas`, Confluent's `_confluent-*`, MSK's `__amazon_msk_canary`) and the default storage
 * topics of Kafka Connect in distributed mode (`connect-configs`, `connect-offsets`,
 * `connect-status`), which hold connector state, not data anyone wants copied.
 */
export function isInternalTopic(topic: string): boolean {
  return topic.startsWith('_') || CONNECT_TOPICS.has(topic);
}

const CONNECT_TOPICS = new Set(['connect-configs', 'connect-offsets', 'connect-status']);

/** A pattern's name: it is a ZooKeeper path segment and shows in tables. */
export function patternNameProblem(name: string): string | null {
  if (!/^[A-Za-z0-9._-]{1,128}$/.test(name) || name === '.' || name === '..')
    return 'must be 1 to 128 of letters, digits, ".", "_" and "-" (not "." or "..")';
  return null;
}

/**
 * A quantifier applied to a group that itself holds a quantifier: `(a+)+`, `(\w*x)*`,
 * `(a|b+){2,}`. Found on the source with escapes and character classes taken out, so `(\+)+`
 * and `([+])+` pass.
 */
function hasNestedQuantifier(source: string): boolean {
  const plain = source.replace(/\\./g, 'x').replace(/\[(?:[^\]\\]|\\.)*\]/g, 'x');
  const open: boolean[] = [];
  let quantifiedInside = false;
  for (let i = 0; i < plain.length; i++) {
    const c = plain[i]!;
    if (c === '(') {
      open.push(quantifiedInside);
      quantifiedInside = false;
    } else if (c === ')') {
      const next = plain[i + 1];
      if (quantifiedInside && (next === '+' || next === '*' || next === '{')) return true;
      quantifiedInside = (open.pop() ?? false) || quantifiedInside;
    } else if (c === '+' || c === '*' || c === '{') {
      quantifiedInside = true;
    }
  }
  return false;
}

/** Why an expression cannot be a pattern, or null. */
export function regexProblem(source: string): string | null {
  if (typeof source !== 'string' || source.length === 0) return 'must be a non-empty regular expression';
  if (source.length > MAX_PATTERN_LENGTH)
    return `must be at most ${MAX_PATTERN_LENGTH} characters, got ${source.length}`;
  try {
    new RegExp(source);
  } catch (err) {
    return `is not a valid JavaScript regular expression (${(err as Error).message}); escape "." as "\\\\." in JSON and close every group and class`;
  }
  if (hasNestedQuantifier(source))
    return 'must not repeat a group that itself repeats (such as "(a+)+"): matching could take minutes; write it without the nested quantifier, e.g. "(a)+" or "a+"';
  return null;
}

/** Every problem of a pattern's expressions, at `pattern` and `exclude[i]`. */
export function topicPatternProblems(p: { name?: string; pattern: string; exclude?: string[] }): Problem[] {
  const out: Problem[] = [];
  if (p.name !== undefined) {
    const problem = patternNameProblem(p.name);
    if (problem) out.push({ path: 'name', message: problem });
  }
  const problem = regexProblem(p.pattern);
  if (problem) out.push({ path: 'pattern', message: problem });
  const excludes = p.exclude ?? [];
  if (excludes.length > MAX_PATTERN_EXCLUDES)
    out.push({ path: 'exclude', message: `must list at most ${MAX_PATTERN_EXCLUDES} expressions` });
  excludes.forEach((e, i) => {
    const problem = regexProblem(e);
    if (problem) out.push({ path: `exclude[${i}]`, message: problem });
  });
  return out;
}

/** What matching needs of a stored pattern. */
export interface PatternRule {
  name: string;
  pattern: string;
  exclude: string[];
  /** Topics an operator unregistered that the pattern must not take again. */
  deletedTopics?: string[];
  createdAt: string;
}

/** Why a pattern does not take a topic it matches, or null when it takes it. */
export type PatternSkip = 'excluded' | 'internal' | 'deleted';

const wholeName = (source: string): RegExp => new RegExp(`^(?:${source})$`);

/** The pattern's source with escapes of name characters undone: `orders\.eu` → `orders.eu`. */
const literalText = (source: string): string => source.replace(/\\([.\-_])/g, '$1');

/** A compiled pattern: asks whether it takes a topic, and why not. */
export class TopicPattern {
  readonly rule: PatternRule;
  readonly #match: RegExp;
  readonly #exclude: RegExp[];
  readonly #literal: string;

  constructor(rule: PatternRule) {
    this.rule = rule;
    this.#match = wholeName(rule.pattern);
    this.#exclude = rule.exclude.map(wholeName);
    this.#literal = literalText(rule.pattern);
  }

  /** Whether the expression matches the whole name (before exclusions and the internal rule). */
  matches(topic: string): boolean {
    return this.#match.test(topic);
  }

  /** null: the pattern takes the topic; otherwise why it does not (undefined: no match at all). */
  verdict(topic: string): PatternSkip | null | undefined {
    if (!this.matches(topic)) return undefined;
    if (this.#exclude.some((e) => e.test(topic))) return 'excluded';
    if (this.rule.deletedTopics?.includes(topic)) return 'deleted';
    if (isInternalTopic(topic) && !this.#literal.includes(topic)) return 'internal';
    return null;
  }

  takes(topic: string): boolean {
    return this.verdict(topic) === null;
  }
}

/** Patterns in the order they claim topics: registered first wins, then by name. */
export function claimOrder<T extends { rule: PatternRule }>(patterns: readonly T[]): T[] {
  return [...patterns].sort(
    (a, b) =>
      a.rule.createdAt.localeCompare(b.rule.createdAt) ||
      (a.rule.name < b.rule.name ? -1 : a.rule.name > b.rule.name ? 1 : 0),
  );
}

/** A topic a pattern takes, and the later patterns that would have taken it too. */
export interface PatternClaim {
  topic: string;
  pattern: string;
  /** Patterns registered later that also take the topic (reported, not used). */
  alsoMatchedBy: string[];
}

/** Which pattern takes each of `topics` (those no pattern takes are left out). */
export function claimTopics(patterns: readonly TopicPattern[], topics: readonly string[]): PatternClaim[] {
  const ordered = claimOrder(patterns);
  const out: PatternClaim[] = [];
  for (const topic of topics) {
    const takers = ordered.filter((p) => p.takes(topic)).map((p) => p.rule.name);
    if (takers.length > 0) out.push({ topic, pattern: takers[0]!, alsoMatchedBy: takers.slice(1) });
  }
  return out;
}
