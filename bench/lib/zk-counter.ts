/**
 * Preloaded into a master or worker the benchmark starts (`--import`): counts the ZooKeeper
 * requests the process makes through ZkClientSession (the real ZkSession), by kind, and the ops inside multis, and
 * writes them to $SLUICE_BENCH_ZK_COUNT_FILE every second and at exit. The session
 * watchdog's pings (one `exists /` every sixth of the session timeout) go around ZkSession
 * and are not counted here.
 */
import { writeFileSync } from 'node:fs';
import { ZkClientSession, type ZkOp } from '@sluice/shared';

const file = process.env.SLUICE_BENCH_ZK_COUNT_FILE;
const counts: Record<string, number> = {};

if (file) {
  const proto = ZkClientSession.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const name of ['get', 'set', 'create', 'remove', 'exists', 'children', 'mkdirp', 'multi']) {
    const original = proto[name];
    if (typeof original !== 'function') continue;
    proto[name] = function counted(this: unknown, ...args: unknown[]) {
      counts[name] = (counts[name] ?? 0) + 1;
      if (name === 'multi') {
        for (const op of args[0] as ZkOp[]) counts[`multi.${op.op}`] = (counts[`multi.${op.op}`] ?? 0) + 1;
      }
      return original.apply(this, args);
    };
  }
  const flush = () => {
    try {
      writeFileSync(file, JSON.stringify(counts));
    } catch {
      // the folder went away: nothing to report to
    }
  };
  setInterval(flush, 1_000).unref();
  process.on('exit', flush);
}
