/**
 * `SLUICE_VERIFY_ON_RETRY`: when a retry finds its range committed already, re-read the range
 * without storing anything (into hashing sinks) and compare it with the commit record.
 * Differences are logged loudly, counted, and kept for the operator in ZooKeeper
 * (`/sluice/topics/{t}/verify/…`, shown by the status); they never fail the job (the commit
 * record stands: invariant 4).
 */
import {
  type CommitRecord,
  encodeJson,
  errorText,
  isNodeExists,
  isNoNode,
  type Logger,
  type ObjectEntry,
  type RangeRecord,
  type SchemaRegistryClient,
  type VerifyMismatch,
  verifyMismatchPath,
  type ZkSession,
} from '@sluice/shared';
import { createHashingSink } from './hashing-sink.ts';
import { abortReason, linkedController } from './range-abort.ts';
import { feedRange, rangeOfRecord } from './range-feed.ts';
import type { RangeReader } from './range-reader.ts';
import { RangeWriter } from './range-writer.ts';
import type { WorkerMetrics } from './worker-metrics.ts';

export interface VerifyDeps {
  zk: () => ZkSession;
  reader: RangeReader;
  workerId: string;
  log: Logger;
  metrics?: WorkerMetrics;
  schemas?: SchemaRegistryClient | undefined;
}

/**
 * Re-reads `rec`'s range and compares it with `commit`. Resolves whatever it finds (a failed
 * re-read is logged); rejects only with the signal's reason when aborted.
 */
export async function verifyCommitted(
  rec: RangeRecord,
  commit: CommitRecord,
  replay: string | undefined,
  deps: VerifyDeps,
  signal?: AbortSignal,
): Promise<void> {
  const { log, metrics } = deps;
  const { ac, unlink } = linkedController(signal);
  const writer = new RangeWriter({
    spec: commit.output,
    range: rangeOfRecord(rec),
    target: { openObjects: async (keys) => keys.map((key) => createHashingSink(key)) },
    onFailure: (err) => ac.abort(err),
    ...(deps.schemas ? { schemas: deps.schemas } : {}),
  });
  try {
    const gaps = await feedRange(rec, { reader: deps.reader, writer, signal: ac.signal, log, metrics });
    const objects = await writer.finish();
    const records = writer.stats().records;
    const differences = commitDifferences(commit, objects, records);
    if (differences.length === 0) {
      log.info({ records, objects: objects.length }, 'verified committed range');
      return;
    }
    const movedPast = gaps.some((g) => BigInt(g.start) <= BigInt(rec.start)) || records < commit.records;
    log.error(
      {
        differences,
        gaps,
        cause: movedPast
          ? 'retention/compaction moved past the range'
          : 'the re-read differs from the commit record; the committed objects stand',
      },
      'verify found a difference',
    );
    metrics?.errors.inc({ kind: 'verify-mismatch' });
    metrics?.verifyMismatches.inc({ cause: movedPast ? 'retention' : 'nondeterministic' });
    try {
      await recordMismatch(deps, rec, replay, movedPast ? 'retention' : 'nondeterministic', differences);
    } catch (err) {
      log.warn({ err: errorText(err) }, 'could not record the verify difference in ZooKeeper');
    }
  } catch (err) {
    writer.abort(err);
    if (signal?.aborted) throw abortReason(signal);
    log.warn({ err: errorText(err) }, 'verify failed');
  } finally {
    unlink();
  }
}

/** What differs between a commit record and a re-read of its range (`objects`, `records`). */
function commitDifferences(commit: CommitRecord, objects: ObjectEntry[], records: number): string[] {
  const mine = new Map(objects.map((o) => [o.key, o]));
  const differences: string[] = [];
  if (records !== commit.records) differences.push(`records ${records} now, ${commit.records} committed`);
  for (const o of commit.objects) {
    const now = mine.get(o.key);
    if (!now) differences.push(`${o.key} would not be written now`);
    else if (now.records !== o.records || now.sha256 !== o.sha256) {
      differences.push(
        `${o.key}: ${now.records} records sha256 ${now.sha256} now, ${o.records} records sha256 ${o.sha256} committed`,
      );
    }
  }
  for (const o of objects) {
    if (!commit.objects.some((c) => c.key === o.key))
      differences.push(`${o.key} would be written now but is not committed`);
  }
  return differences;
}

/** One node per range, the newest check wins. */
async function recordMismatch(
  deps: VerifyDeps,
  rec: RangeRecord,
  replay: string | undefined,
  cause: VerifyMismatch['cause'],
  differences: string[],
): Promise<void> {
  const zk = deps.zk();
  const path = verifyMismatchPath(rangeOfRecord(rec), replay);
  const data = encodeJson({
    v: 1,
    topic: rec.topic,
    partition: rec.partition,
    start: rec.start,
    end: rec.end,
    replay: replay ?? null,
    worker: deps.workerId,
    checkedAt: new Date().toISOString(),
    cause,
    differences: differences.slice(0, 20),
  } satisfies VerifyMismatch);
  try {
    await zk.create(path, data);
  } catch (err) {
    if (isNodeExists(err)) {
      await zk.set(path, data, -1);
    } else if (isNoNode(err)) {
      // Only below a topic that is still registered (never re-create a removed topic's node).
      try {
        await zk.create(path.slice(0, path.lastIndexOf('/')));
      } catch (e) {
        if (!isNodeExists(e)) throw e;
      }
      await zk.create(path, data);
    } else {
      throw err;
    }
  }
}
