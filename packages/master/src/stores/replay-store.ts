/**
 * Replays in ZooKeeper as the API reads and writes them (`/sluice/replays/…`, see
 * replay-record.ts). Any master creates a replay, with its partition nodes, in one multi; only
 * the leader plans and commits it. Cancelling is a version-checked `setData` of the replay node.
 */
import {
  decodeJson,
  ErrorCodes,
  encodeJson,
  isBadVersion,
  isNoNode,
  type RangeRecord,
  type RangeState,
  REPLAYS_PATH,
  replayIdProblem,
  replayPartitionPath,
  replayPartitionsPath,
  replayPath,
  SluiceError,
  type ZkOp,
  type ZkSession,
} from '@sluice/shared';
import {
  initialPartitionState,
  type ReplayPartitionState,
  type ReplayRecord,
} from '../replays/replay-record.ts';

export interface ReplayPartitionView {
  partition: number;
  start: string;
  end: string;
  committedOffset: string;
  /** Offsets of the window not yet in S3. */
  remaining: string;
  committedRecords: number;
  committedBytes: number;
  gapOffsets: string;
  ranges: Record<RangeState, number>;
}

export interface ReplayView extends ReplayRecord {
  progress: {
    offsets: string;
    committedOffsets: string;
    remaining: string;
    records: number;
    bytes: number;
    rangesInFlight: number;
    failedRanges: number;
  };
  partitionsProgress: ReplayPartitionView[];
}

export function replayNotFound(id: string): SluiceError {
  return new SluiceError(
    ErrorCodes.REPLAY_NOT_FOUND,
    `no replay "${id}"; GET /api/v1/replays lists the replays`,
  );
}

export async function readReplay(
  zk: ZkSession,
  id: string,
): Promise<{ record: ReplayRecord; version: number } | null> {
  if (replayIdProblem(id) !== null) return null;
  const node = await zk.get(replayPath(id));
  if (!node || node.data.length === 0) return null;
  return { record: decodeJson<ReplayRecord>(node.data, replayPath(id)), version: node.version };
}

/** Every replay, oldest first. */
export async function listReplays(zk: ZkSession): Promise<ReplayRecord[]> {
  const ids = (await zk.children(REPLAYS_PATH)).sort();
  const all = await Promise.all(ids.map((id) => readReplay(zk, id)));
  return all.filter((r): r is { record: ReplayRecord; version: number } => r !== null).map((r) => r.record);
}

/** Creates the replay and its partition nodes in one multi. */
export async function createReplay(zk: ZkSession, record: ReplayRecord): Promise<void> {
  await zk.mkdirp(REPLAYS_PATH);
  const ops: ZkOp[] = [
    { op: 'create', path: replayPath(record.id), data: encodeJson(record) },
    { op: 'create', path: replayPartitionsPath(record.id) },
    ...record.partitions.map(
      (p): ZkOp => ({
        op: 'create',
        path: replayPartitionPath(record.id, p.partition),
        data: encodeJson(initialPartitionState(p, record.createdAt)),
      }),
    ),
  ];
  await zk.multi(ops);
}

/** Marks a replay cancelled (unchanged when it is done or cancelled already). */
export async function cancelReplay(zk: ZkSession, id: string, now: Date): Promise<ReplayRecord> {
  for (let i = 0; i < 20; i++) {
    const stored = await readReplay(zk, id);
    if (!stored) throw replayNotFound(id);
    if (stored.record.state !== 'running') return stored.record;
    const next: ReplayRecord = {
      ...stored.record,
      state: 'cancelled',
      updatedAt: now.toISOString(),
      finishedAt: now.toISOString(),
    };
    try {
      await zk.set(replayPath(id), encodeJson(next), stored.version);
      return next;
    } catch (err) {
      if (isNoNode(err)) throw replayNotFound(id);
      if (!isBadVersion(err)) throw err;
    }
  }
  throw new SluiceError(ErrorCodes.ZK, `replay "${id}" kept changing under this request; try again`, {
    retryable: true,
  });
}

/** The replay with the progress of each of its partitions. */
export async function replayView(zk: ZkSession, record: ReplayRecord): Promise<ReplayView> {
  const partitionsProgress: ReplayPartitionView[] = [];
  for (const plan of record.partitions) {
    const path = replayPartitionPath(record.id, plan.partition);
    const [node, children] = await Promise.all([zk.get(path), zk.children(path)]);
    const state = node && node.data.length > 0 ? decodeJson<ReplayPartitionState>(node.data, path) : null;
    const ranges: Record<RangeState, number> = { planned: 0, active: 0, done: 0, failed: 0 };
    const nodes = await Promise.all(children.map((c) => zk.get(`${path}/${c}`)));
    for (const n of nodes) if (n && n.data.length > 0) ranges[decodeJson<RangeRecord>(n.data, path).state]++;
    const committed = state?.committedOffset ?? plan.start;
    partitionsProgress.push({
      partition: plan.partition,
      start: plan.start,
      end: plan.end,
      committedOffset: committed,
      remaining: (BigInt(plan.end) - BigInt(committed)).toString(),
      committedRecords: state?.committedRecords ?? 0,
      committedBytes: state?.committedBytes ?? 0,
      gapOffsets: state?.gapOffsets ?? '0',
      ranges,
    });
  }
  let offsets = 0n;
  let committed = 0n;
  for (const p of partitionsProgress) {
    offsets += BigInt(p.end) - BigInt(p.start);
    committed += BigInt(p.committedOffset) - BigInt(p.start);
  }
  return {
    ...record,
    progress: {
      offsets: offsets.toString(),
      committedOffsets: committed.toString(),
      remaining: (offsets - committed).toString(),
      records: partitionsProgress.reduce((n, p) => n + p.committedRecords, 0),
      bytes: partitionsProgress.reduce((n, p) => n + p.committedBytes, 0),
      rangesInFlight: partitionsProgress.reduce(
        (n, p) => n + p.ranges.planned + p.ranges.active + p.ranges.done + p.ranges.failed,
        0,
      ),
      failedRanges: partitionsProgress.reduce((n, p) => n + p.ranges.failed, 0),
    },
    partitionsProgress,
  };
}
