/**
 * Upgrade in place: the versions that let one release read what another wrote, and refuse
 * loudly what it cannot read.
 *
 *  - Every JSON node in ZooKeeper (and every S3 commit record) carries a record version `v`.
 *    A program that meets a `v` above {@link RECORD_VERSION} was given data by a newer
 *    release: it refuses with `SLUICE_ERR_NEWER_LAYOUT` instead of guessing what the fields mean.
 *  - The tree as a whole carries a layout version in `/sluice/layout`. After an upgrade, the
 *    first leader of the new release migrates the tree once, step by step (the steps live with
 *    the master), each step idempotent and fenced by the leader epoch, and then writes the new
 *    layout version. A tree without the node is layout {@link UNVERSIONED_LAYOUT}: the layout
 *    of every release before layouts were versioned.
 *  - Job payloads carry their own version (range-job.ts).
 */
import { ErrorCodes, SluiceError } from './errors.ts';

/** The highest record version (`v`) this release reads and writes. */
export const RECORD_VERSION = 1;

/** The layout of a tree that has no `/sluice/layout` node (releases up to 0.1.0). */
export const UNVERSIONED_LAYOUT = 1;

/**
 * The layout this release writes. Layout 2 has the node paths and record formats of layout 1
 * and adds `/sluice/layout` itself; its migration checks that every record is one this release
 * reads before the tree is declared layout 2.
 */
export const ZK_LAYOUT_VERSION = 2;

/** `/sluice/layout`. */
export interface LayoutRecord {
  v: 1;
  /** The tree's layout version. */
  layout: number;
  /** The layout the last migration started from. */
  from: number;
  /** Sluice release of the leader that migrated the tree. */
  release: string;
  migratedAt: string;
}

function newerRelease(what: string, found: string, known: string): SluiceError {
  return new SluiceError(
    ErrorCodes.NEWER_LAYOUT,
    `${what} has ${found}, written by a newer Sluice release; this release reads ${known}. ` +
      'Run the newer release (see "Upgrading" in the README: upgrade workers, then masters; never roll back past a migration)',
    { retryable: false, details: { what } },
  );
}

/** Refuses a record written by a newer release; records without `v` are the oldest format. */
export function checkRecordVersion(value: unknown, what: string): void {
  if (typeof value !== 'object' || value === null) return;
  const v = (value as { v?: unknown }).v;
  if (typeof v === 'number' && v > RECORD_VERSION) {
    throw newerRelease(what, `record version ${v}`, `versions up to ${RECORD_VERSION}`);
  }
}

/** The layout version stored at `/sluice/layout` (null data: no node, the unversioned layout). */
export function layoutOf(data: Buffer | null): number {
  if (data === null || data.length === 0) return UNVERSIONED_LAYOUT;
  let layout: unknown;
  try {
    layout = (JSON.parse(data.toString('utf8')) as { layout?: unknown }).layout;
  } catch {
    layout = undefined;
  }
  if (typeof layout !== 'number' || !Number.isInteger(layout) || layout < UNVERSIONED_LAYOUT) {
    throw new SluiceError(
      ErrorCodes.INTERNAL,
      `/sluice/layout does not hold a layout version (${JSON.stringify(data.toString('utf8').slice(0, 80))}); ` +
        'restore it from a ZooKeeper backup, or remove it so that the leader migrates the tree again',
      { retryable: false },
    );
  }
  return layout;
}

/** Refuses a tree in a layout newer than this release's. */
export function checkLayout(layout: number): void {
  if (layout > ZK_LAYOUT_VERSION) {
    throw newerRelease('/sluice/layout', `layout ${layout}`, `layouts up to ${ZK_LAYOUT_VERSION}`);
  }
}
