/**
 * Step 6 of an attempt: the commit record, written after every data object with
 * `If-None-Match: *`. If another attempt's record exists, it stands (invariant 4) and this
 * attempt's result becomes that record's. Then whatever recorded key the standing record does
 * not list is no one's, and is removed before the range is marked done (a done range is never
 * visited again).
 */
import {
  type CommitRecord,
  ErrorCodes,
  keysToRemove,
  type Logger,
  type ObjectEntry,
  type OutputSpec,
  type RangeRecord,
  type RangeResult,
  SluiceError,
} from '@sluice/shared';
import type { ObjectStore } from './object-writer.ts';
import type { WorkerMetrics } from './worker-metrics.ts';

/** The fields of a commit record that make up the range's result. */
export function resultOfCommit(c: CommitRecord): RangeResult {
  return {
    attempt: c.attempt,
    worker: c.worker,
    records: c.records,
    rawBytes: c.rawBytes,
    objectBytes: c.objectBytes,
    objects: c.objects,
    minTimestamp: c.minTimestamp,
    maxTimestamp: c.maxTimestamp,
    gaps: c.gaps,
    eventTimeFallbacks: c.eventTimeFallbacks,
    ...(c.fieldFallbacks !== undefined ? { fieldFallbacks: c.fieldFallbacks } : {}),
    tombstones: c.tombstones,
    binaryValues: c.binaryValues,
    ...(c.rejected ? { rejected: c.rejected } : {}),
    completedAt: c.completedAt,
  };
}

export interface CommitDeps {
  store: ObjectStore;
  log: Logger;
  metrics?: WorkerMetrics;
  signal?: AbortSignal;
}

/**
 * Writes the range's commit record for `result`, unless one stands. Returns whether this
 * attempt's was written and the result of the one that stands.
 */
export async function writeCommitRecord(
  rec: RangeRecord,
  spec: OutputSpec,
  commitKey: string,
  result: RangeResult,
  deps: CommitDeps,
): Promise<{ written: boolean; standing: RangeResult }> {
  const { store, log, signal } = deps;
  const commit: CommitRecord = {
    v: 1,
    topic: rec.topic,
    topicId: rec.topicId,
    partition: rec.partition,
    start: rec.start,
    end: rec.end,
    output: spec,
    ...result,
  };
  if (await store.putCommitRecord(spec, commitKey, commit, signal))
    return { written: true, standing: result };
  const other = await store.getCommitRecord(spec.destination.bucket, commitKey, signal);
  if (other === null) {
    throw new SluiceError(
      ErrorCodes.S3_WRITE_CONFLICT,
      `commit record ${commitKey} was refused as existing but cannot be read`,
      { retryable: true },
    );
  }
  log.warn(
    { other: { attempt: other.attempt, worker: other.worker, records: other.records } },
    'another commit record stands',
  );
  warnIfReplaced(result.objects, other, deps);
  return { written: false, standing: resultOfCommit(other) };
}

/**
 * Same range, same records: same bytes. Unless Kafka deleted records between two live
 * attempts, and this one replaced an object the standing record describes with less.
 */
function warnIfReplaced(mine: ObjectEntry[], other: CommitRecord, deps: CommitDeps): void {
  const written = new Map(mine.map((o) => [o.key, o.sha256]));
  const replaced = other.objects.filter((o) => written.has(o.key) && written.get(o.key) !== o.sha256);
  if (replaced.length === 0) return;
  deps.metrics?.errors.inc({ kind: 'replaced-committed-object' });
  deps.log.error(
    { keys: replaced.map((o) => o.key), other: { attempt: other.attempt, worker: other.worker } },
    'an object the standing commit record lists was replaced with other bytes',
  );
}

/** Removes the `recorded` keys (of any attempt of the range) that the standing record does not list. */
export async function removeUnlisted(
  bucket: string,
  recorded: Iterable<string>,
  standing: Pick<RangeResult, 'objects'>,
  deps: CommitDeps,
): Promise<void> {
  const unlisted = keysToRemove(recorded, standing);
  if (unlisted.length === 0) return;
  deps.log.info({ keys: unlisted.length }, 'removing objects no commit record lists');
  await deps.store.deleteObjects(bucket, unlisted, deps.signal);
}
