/**
 * The workers of the leader-at-scale benchmark (leader-zk.ts), on a thread of their own so
 * that the leader's CPU (the main thread's) is measured without theirs. Given the ranges the
 * leader enqueued, it marks each done in the real ZooKeeper as a worker's last write would:
 * read the range node, write it back `done` with a result at the version read. Requests are
 * pipelined; a range the leader already moved on from is skipped.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { decodeJson, encodeJson, mapLimit, type RangeRecord, ZkSession } from '@sluice/shared';
import { doneResult } from './master-scale.ts';

const { connect } = workerData as { connect: string };
const zk = await ZkSession.open({ connect, sessionTimeoutMs: 30_000 });

parentPort?.on('message', async (msg: { paths: string[] } | 'close') => {
  if (msg === 'close') {
    await zk.close();
    parentPort?.postMessage('closed');
    return;
  }
  let done = 0;
  await mapLimit(msg.paths, 256, async (path) => {
    const node = await zk.get(path);
    if (!node) return;
    const r = decodeJson<RangeRecord>(node.data, path);
    if (r.state === 'done') return;
    try {
      await zk.set(path, encodeJson({ ...r, state: 'done', result: doneResult(r) }), node.version);
      done++;
    } catch {
      // the leader requeued or pruned it meanwhile: a real worker would be refused too
    }
  });
  parentPort?.postMessage({ done });
});
parentPort?.postMessage('ready');
