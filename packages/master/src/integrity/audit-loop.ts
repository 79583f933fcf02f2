/**
 * The leader's continuous audit: each registered topic every `auditIntervalMs`, kept cheap.
 *
 *  - Light pass (the usual one): per partition, only the commit records written since the
 *    last pass (listed after a cursor; zero-padded names make lexical order offset order), and
 *    only those below the committed offset, which are final. Their tiling continues the last
 *    pass's end, and each object they list gets one HEAD (exists, with its size). A range is
 *    tens to hundreds of MB, so this is a handful of requests per range.
 *  - Full pass: once a day (and at the first pass of a topic, or when its destination moved),
 *    the whole-topic audit of `sluice audit` without `--deep`: one listing of the topic's
 *    folder also finds extra objects, and problems fixed meanwhile stop counting.
 *
 * The result is kept in `/sluice/topics/{t}/audit` (fenced, leader only), so every master
 * shows it in `GET /api/v1/status`, and in the `sluice_audit_problems{topic}` gauge.
 */
import {
  auditStatePath,
  commitsFolder,
  decodeJson,
  ErrorCodes,
  encodeJson,
  errorText,
  isBadVersion,
  isNodeExists,
  isNoNode,
  isSluiceError,
  type Logger,
  mapLimit,
  parseCommitRecordKey,
  type TopicRecord,
  topicRoot,
  type ZkOp,
} from '@sluice/shared';
import type { FencedWriter } from '../leadership/fenced-writer.ts';
import type { OutputStore } from '../stores/output-store.ts';
import { auditTopic, describeFinding, type Finding } from './audit.ts';
import { auditPartitions, runAudit } from './audit-runner.ts';
import type { IntegrityMetrics } from './integrity-metrics.ts';

/** A full pass at least this often. */
export const FULL_AUDIT_EVERY_MS = 24 * 3_600_000;
/** Findings kept in the state node (their texts), newest last. */
const KEPT_FINDINGS = 20;
/** Commit records read per partition in one light pass; the rest wait for the next. */
const COMMITS_PER_PASS = 500;

/** `/sluice/topics/{t}/audit`. */
export interface AuditState {
  v: 1;
  /** The topic folder audited; a different one (destination changed) starts afresh. */
  root: string;
  checkedAt: string;
  /** Last full pass. */
  fullAt: string;
  /** Problems found by the last full pass and the light passes since. */
  problems: number;
  /** The latest findings, in words. */
  findings: string[];
  /** Per partition: the last commit record checked and the end of the tiling so far. */
  cursor: Record<string, { after: string; end: string }>;
}

export interface AuditLoopOptions {
  writer: FencedWriter;
  store: OutputStore;
  log: Logger;
  metrics?: IntegrityMetrics;
  now?: () => number;
}

export class AuditLoop {
  readonly #o: AuditLoopOptions;
  readonly #now: () => number;

  constructor(opts: AuditLoopOptions) {
    this.#o = opts;
    this.#now = opts.now ?? Date.now;
  }

  /** One pass over every topic. A NOT_LEADER ends it. */
  async pass(topics: readonly TopicRecord[], stopped: () => boolean = () => false): Promise<void> {
    for (const t of topics) {
      if (stopped()) return;
      if (t.state === 'deleting') continue;
      try {
        await this.auditTopic(t);
      } catch (err) {
        if (isSluiceError(err, ErrorCodes.NOT_LEADER)) throw err;
        this.#o.log.warn({ topic: t.topic, err: errorText(err) }, 'audit pass failed');
      }
    }
  }

  /** One topic: a full or a light pass, then the state node. Returns the state written. */
  async auditTopic(t: TopicRecord): Promise<AuditState> {
    const zk = this.#o.writer.zk;
    const path = auditStatePath(t.topic);
    const node = await zk.get(path);
    const before = node && node.data.length > 0 ? decodeJson<AuditState>(node.data, path) : null;
    const root = topicRoot(t.destination.prefix, t.topic);
    const nowMs = this.#now();
    const full = !before || before.root !== root || nowMs - Date.parse(before.fullAt) >= FULL_AUDIT_EVERY_MS;
    const next = full ? await this.#full(t, root, nowMs) : await this.#light(t, before, nowMs);
    const ops: ZkOp[] = node
      ? [{ op: 'set', path, data: encodeJson(next), version: node.version }]
      : [{ op: 'create', path, data: encodeJson(next) }];
    try {
      await this.#o.writer.multi(ops);
    } catch (err) {
      // The topic went away, or another leader's pass raced this one: the next pass decides.
      if (isNoNode(err) || isNodeExists(err) || isBadVersion(err)) return next;
      throw err;
    }
    this.#o.metrics?.auditProblems.set({ topic: t.topic }, next.problems);
    const found = next.problems - (full ? 0 : (before?.problems ?? 0));
    if (found > 0) {
      this.#o.log.error(
        { topic: t.topic, problems: next.problems, found, full, findings: next.findings.slice(-found) },
        'audit found problems',
      );
    } else {
      this.#o.log.debug({ topic: t.topic, full, problems: next.problems }, 'audit pass');
    }
    return next;
  }

  async #full(t: TopicRecord, root: string, nowMs: number): Promise<AuditState> {
    const zk = this.#o.writer.zk;
    const partitions = await auditPartitions(zk, t.topic);
    const report = await runAudit(zk, this.#o.store, t);
    // The cursor starts after the commit records below the committed offset read first.
    const committed = new Map(partitions.map((p) => [p.partition, p.committedOffset]));
    const cursor: AuditState['cursor'] = {};
    const { bucket, prefix } = t.destination;
    for (const p of partitions) {
      const keys = (await this.#o.store.list(bucket, commitsFolder(prefix, t.topic, p.partition))).map(
        (k) => k.key,
      );
      const at = advance(keys, committed.get(p.partition) ?? null);
      if (at) cursor[String(p.partition)] = at;
      else if (p.startOffset !== null)
        cursor[String(p.partition)] = { after: '', end: p.startOffset.toString() };
    }
    const iso = new Date(nowMs).toISOString();
    return {
      v: 1,
      root,
      checkedAt: iso,
      fullAt: iso,
      problems: report.problems,
      findings: report.findings.slice(0, KEPT_FINDINGS).map(describeFinding),
      cursor,
    };
  }

  async #light(t: TopicRecord, before: AuditState, nowMs: number): Promise<AuditState> {
    const zk = this.#o.writer.zk;
    const { bucket, prefix } = t.destination;
    const partitions = await auditPartitions(zk, t.topic);
    const cursor = { ...before.cursor };
    const findings: Finding[] = [];
    for (const p of partitions) {
      const c = cursor[String(p.partition)];
      const listed = await this.#o.store.list(bucket, commitsFolder(prefix, t.topic, p.partition), {
        ...(c?.after ? { startAfter: c.after } : {}),
        limit: COMMITS_PER_PASS,
      });
      // Only records below the committed offset are final; the rest are looked at next time.
      const final: string[] = [];
      for (const k of listed) {
        const name = parseCommitRecordKey(k.key);
        if (!name || p.committedOffset === null || name.end > p.committedOffset) break;
        final.push(k.key);
      }
      if (final.length === 0) continue;
      const commits = await this.#o.store.commits(bucket, final);
      const keys = commits.flatMap((x) =>
        x.record && Array.isArray(x.record.objects) ? x.record.objects.map((o) => o.key) : [],
      );
      const sizes = await mapLimit(keys, 8, (k) => this.#o.store.size(bucket, k));
      const objects = new Map<string, number>();
      keys.forEach((k, i) => {
        const s = sizes[i];
        if (s !== null && s !== undefined) objects.set(k, s);
      });
      const last = final[final.length - 1]!;
      const end = parseCommitRecordKey(last)!.end;
      const report = auditTopic({
        topic: t.topic,
        root: topicRoot(prefix, t.topic),
        partitions: [
          {
            partition: p.partition,
            startOffset: c ? BigInt(c.end) : p.startOffset,
            committedOffset: end,
            committedRecords: null,
          },
        ],
        commits,
        objects,
        complete: false,
        window: { partition: p.partition },
      });
      findings.push(...report.findings);
      // An overlap with what the last pass checked (the batch alone cannot show it).
      const first = parseCommitRecordKey(final[0]!)!;
      if (c && first.start < BigInt(c.end)) {
        findings.push({
          kind: 'overlap',
          partition: p.partition,
          start: first.start.toString(),
          end: c.end,
          commits: [c.after, final[0]!],
        });
      }
      cursor[String(p.partition)] = { after: last, end: end.toString() };
    }
    return {
      ...before,
      checkedAt: new Date(nowMs).toISOString(),
      problems: before.problems + findings.length,
      findings: [...before.findings, ...findings.map(describeFinding)].slice(-KEPT_FINDINGS),
      cursor,
    };
  }
}

/** The cursor after the leading commit records that end at or below the committed offset. */
function advance(keys: readonly string[], committed: bigint | null): { after: string; end: string } | null {
  let at: { after: string; end: string } | null = null;
  if (committed === null) return null;
  for (const k of keys) {
    const name = parseCommitRecordKey(k);
    if (!name || name.end > committed) break;
    at = { after: k, end: name.end.toString() };
  }
  return at;
}
