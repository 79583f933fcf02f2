/**
 * A Redis of a test's own (redis-server from the PATH, on a free loopback port, no
 * persistence), for faults that would disturb everyone sharing the stack's Redis, such as
 * FLUSHALL. Stopped when the test ends.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort, waitFor } from './processes.ts';

export interface OwnRedis {
  url: string;
  stop(): Promise<void>;
}

export async function startRedisServer(): Promise<OwnRedis> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `redis://127.0.0.1:${port}`;
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => 100 });
  probe.on('error', () => {});
  try {
    await waitFor(
      'redis-server to answer',
      async () => (await probe.ping().catch(() => '')) === 'PONG',
      10_000,
      100,
    );
  } finally {
    probe.disconnect();
  }
  return {
    url,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
