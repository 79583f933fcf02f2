/**
 * Live workers: the ephemeral `/sluice/workers/{id}` nodes with their registrations, and the
 * number of ranges each is working on (counted from ranges in flight, no extra reads).
 */
import {
  decodeJson,
  type RangeRecord,
  WORKERS_PATH,
  type WorkerRegistration,
  workerPath,
  type ZkSession,
} from '@sluice/shared';

export interface WorkerView extends WorkerRegistration {
  ready: boolean;
  notReadyReason: string | null;
  /** Ranges in flight whose current attempt is active on this worker. */
  activeRanges: number;
}

/** Registrations of the workers alive now, by id; one that goes away while listing is left out. */
export async function readWorkers(zk: ZkSession): Promise<WorkerRegistration[]> {
  const ids = (await zk.children(WORKERS_PATH)).sort();
  const nodes = await Promise.all(ids.map((id) => zk.get(workerPath(id))));
  const out: WorkerRegistration[] = [];
  for (const [i, node] of nodes.entries()) {
    if (node && node.data.length > 0) out.push(decodeJson<WorkerRegistration>(node.data, `worker ${ids[i]}`));
  }
  return out;
}

/** A registration's readiness; registrations of releases before it are ready. */
export function workerReadiness(w: WorkerRegistration): { ready: boolean; notReadyReason: string | null } {
  const ready = w.ready !== false;
  return { ready, notReadyReason: ready ? null : (w.notReadyReason ?? 'not ready') };
}

/** Pure: registrations plus their active range counts. */
export function workerViews(
  workers: readonly WorkerRegistration[],
  ranges: Iterable<Pick<RangeRecord, 'state' | 'worker'>>,
): WorkerView[] {
  const active = new Map<string, number>();
  for (const r of ranges) {
    if (r.state === 'active' && r.worker) active.set(r.worker, (active.get(r.worker) ?? 0) + 1);
  }
  return workers.map((w) => ({ ...w, ...workerReadiness(w), activeRanges: active.get(w.id) ?? 0 }));
}
