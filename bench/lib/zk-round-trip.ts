/**
 * One ZooKeeper round trip as the leader pays it: a `get` and a fenced `multi` (check + set)
 * on the local server, one after the other, median of many. The leader's passes await their
 * calls one at a time, so a pass costs about its in-memory time plus calls × round trip.
 */
import { ZkSession } from '@sluice/shared';
import { median } from './measurement.ts';
import type { BenchEnv } from './stack.ts';

export interface ZkRoundTrip {
  getMs: number;
  multiMs: number;
}

export async function zkRoundTrip(env: BenchEnv, chroot: string, n = 300): Promise<ZkRoundTrip> {
  const zk = await ZkSession.open({ connect: `${env.zookeeper}${chroot}`, sessionTimeoutMs: 10_000 });
  try {
    await zk.create('/a', Buffer.from('{}'));
    await zk.create('/b', Buffer.from('{}'));
    const gets: number[] = [];
    const multis: number[] = [];
    let version = 0;
    for (let i = 0; i < n; i++) {
      let t = performance.now();
      await zk.get('/a');
      gets.push(performance.now() - t);
      t = performance.now();
      await zk.multi([
        { op: 'check', path: '/a', version: 0 },
        { op: 'set', path: '/b', data: Buffer.from(`{"i":${i}}`), version: version++ },
      ]);
      multis.push(performance.now() - t);
    }
    return { getMs: median(gets), multiMs: median(multis) };
  } finally {
    await zk.close();
    const base = await ZkSession.open({ connect: env.zookeeper, sessionTimeoutMs: 10_000 });
    await base.removeRecursive(chroot).catch(() => {});
    await base.close();
  }
}
