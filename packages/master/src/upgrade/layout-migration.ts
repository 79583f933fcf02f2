/**
 * Upgrade in place: the leader brings the ZooKeeper tree to this release's layout once, before
 * its first pass (leader-term.ts), so that no planner, tracker or supervisor ever reads a node
 * in a layout it does not know.
 *
 * The tree's layout is `/sluice/layout` (shared/layout-version.ts; no node: layout 1). Each
 * step takes the tree from one layout to the next; it must be idempotent (a leader may lose
 * its epoch half-way, and its successor runs the step again) and it writes only through the
 * {@link FencedWriter}, like every leader write. After each step the layout node is written,
 * fenced, so a step never runs again once it is recorded. A tree in a newer layout than this
 * release's is refused (`SLUICE_ERR_NEWER_LAYOUT`): this leader then does nothing.
 */
import {
  checkLayout,
  decodeJson,
  encodeJson,
  isBadVersion,
  isNodeExists,
  isNoNode,
  LAYOUT_PATH,
  type LayoutRecord,
  LEADER_PATH,
  type Logger,
  layoutOf,
  REPLAYS_PATH,
  RETRIES_PATH,
  SLUICE_VERSION,
  TOPICS_PATH,
  ZK_LAYOUT_VERSION,
  type ZkSession,
} from '@sluice/shared';
import type { FencedWriter } from '../leadership/fenced-writer.ts';

/** One step from layout `from` to `from + 1`. */
export interface MigrationStep {
  from: number;
  /** For the log. */
  what: string;
  /** Idempotent; any write goes through `writer`. Returns how many nodes it looked at. */
  run(writer: FencedWriter, log: Logger): Promise<number>;
}

/** Reads every node below `path` (depth first) and decodes each JSON one, which refuses newer record versions. */
async function decodeTree(zk: ZkSession, path: string): Promise<number> {
  let children: string[];
  try {
    children = await zk.children(path);
  } catch (err) {
    if (isNoNode(err)) return 0;
    throw err;
  }
  let seen = 0;
  for (const name of children) {
    const child = `${path}/${name}`;
    const node = await zk.get(child);
    if (node === null) continue;
    if (node.data.length > 0) {
      decodeJson<unknown>(node.data, child);
      seen++;
    }
    seen += await decodeTree(zk, child);
  }
  return seen;
}

/**
 * Layout 1 → 2. Layout 2 keeps every path and record format of layout 1 (what releases up to
 * 0.1.0 write) and adds `/sluice/layout`; the step reads every record the leader will act on
 * (leader, topics with their partitions, ranges, finalizer, audit and verify nodes, replays,
 * retry requests) so that a record this release cannot read stops the upgrade here, before any
 * pass runs, rather than in the middle of one. Nothing is rewritten: reading is idempotent.
 */
const LAYOUT_1_TO_2: MigrationStep = {
  from: 1,
  what: 'check that every record is one this release reads; add /sluice/layout',
  async run(writer) {
    const zk = writer.zk;
    let seen = 0;
    const leader = await zk.get(LEADER_PATH);
    if (leader && leader.data.length > 0) {
      decodeJson<unknown>(leader.data, LEADER_PATH);
      seen++;
    }
    for (const root of [TOPICS_PATH, REPLAYS_PATH, RETRIES_PATH]) seen += await decodeTree(zk, root);
    return seen;
  },
};

/** Every step, in order; `STEPS[i].from === i + 1`. A release that changes the layout adds one. */
export const MIGRATION_STEPS: readonly MigrationStep[] = [LAYOUT_1_TO_2];

/** The tree's layout and the layout node's ZooKeeper version (-1: no node). */
async function readLayout(zk: ZkSession): Promise<{ layout: number; version: number }> {
  const node = await zk.get(LAYOUT_PATH);
  return { layout: layoutOf(node?.data ?? null), version: node?.version ?? -1 };
}

/**
 * Brings the tree to {@link ZK_LAYOUT_VERSION}, one fenced step at a time; returns the steps
 * run (none when the tree is current). Throws `SLUICE_ERR_NEWER_LAYOUT` for a newer tree and
 * `SLUICE_ERR_NOT_LEADER` when the epoch ended; a failed step is simply run again later.
 */
export async function migrateLayout(
  writer: FencedWriter,
  log: Logger,
  steps: readonly MigrationStep[] = MIGRATION_STEPS,
  target: number = ZK_LAYOUT_VERSION,
): Promise<number> {
  let { layout, version } = await readLayout(writer.zk);
  checkLayout(layout);
  let ran = 0;
  while (layout < target) {
    const step = steps.find((s) => s.from === layout);
    if (!step) throw new Error(`no migration step from layout ${layout}; MIGRATION_STEPS is incomplete`);
    const startedAt = Date.now();
    const seen = await step.run(writer, log);
    const record: LayoutRecord = {
      v: 1,
      layout: layout + 1,
      from: layout,
      release: SLUICE_VERSION,
      migratedAt: new Date().toISOString(),
    };
    try {
      await writer.multi([
        version < 0
          ? { op: 'create', path: LAYOUT_PATH, data: encodeJson(record) }
          : { op: 'set', path: LAYOUT_PATH, data: encodeJson(record), version },
      ]);
    } catch (err) {
      // A fenced write that failed on the layout node itself: someone else wrote it (an
      // operator, or a leader whose term overlapped this one's start). Read it again.
      if (!isNodeExists(err) && !isNoNode(err) && !isBadVersion(err)) throw err;
      ({ layout, version } = await readLayout(writer.zk));
      checkLayout(layout);
      continue;
    }
    log.info(
      { from: layout, to: layout + 1, nodes: seen, ms: Date.now() - startedAt, step: step.what },
      'ZooKeeper layout migrated',
    );
    ({ layout, version } = await readLayout(writer.zk));
    ran++;
  }
  return ran;
}
