/**
 * A Sluice installation of the benchmark's own on the shared stack: a master and workers run
 * from source (`--conditions=source`, so the code measured is the code in the tree), each in
 * its own ZooKeeper chroot and BullMQ prefix named `bench-…`, with the ZooKeeper counter
 * preloaded. Logs go to .sluice/bench/logs/.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ZkSession } from '@sluice/shared';
import { programNodeFlags } from '@sluice/test-kit';
import { Redis } from 'ioredis';
import { type BenchEnv, REPO } from './stack.ts';

export interface NodeProcess {
  name: string;
  pid: number;
  url: string;
  logFile: string;
  zkCountFile: string;
  child: ChildProcess;
  exited: Promise<number | string | null>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface ClusterOptions {
  /** Extra settings for every process. */
  env?: Record<string, string>;
  /** Extra node flags for workers (e.g. `--cpu-prof`). */
  workerNodeFlags?: string[];
  /** Extra node flags for masters. */
  masterNodeFlags?: string[];
  /** Working directory of the processes. @defaultValue the log folder */
  workDir?: string;
  /**
   * Run the built programs (each package's bin, which runs its bundle, as installed) without the ZooKeeper
   * counter, instead of the source: for start-up and idle CPU, which the source's type
   * stripping and the counter would add to. Needs `npm run build`.
   */
  fromDist?: boolean;
}

export class BenchCluster {
  readonly name: string;
  readonly token = randomBytes(32).toString('hex');
  readonly chroot: string;
  readonly queuePrefix: string;
  readonly #env: BenchEnv;
  readonly #opts: ClusterOptions;
  readonly #procs: NodeProcess[] = [];
  readonly #dir: string;
  #n = 0;

  constructor(env: BenchEnv, name: string, opts: ClusterOptions = {}) {
    this.#env = env;
    this.#opts = opts;
    this.name = name;
    this.chroot = `/${name}`;
    this.queuePrefix = name;
    this.#dir = join(env.scratchDir, 'logs');
    mkdirSync(this.#dir, { recursive: true });
  }

  get processes(): readonly NodeProcess[] {
    return this.#procs;
  }

  async #start(kind: 'master' | 'worker', extra: Record<string, string>): Promise<NodeProcess> {
    const n = ++this.#n;
    const name = `${kind}-${n}`;
    const port = await freePort();
    const logFile = join(this.#dir, `${this.name}-${name}.log`);
    const zkCountFile = join(this.#dir, `${this.name}-${name}.zk.json`);
    const log = createWriteStream(logFile);
    const stack = this.#env.stack;
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      ...stack,
      SLUICE_ZOOKEEPER: `${this.#env.zookeeper}${this.chroot}`,
      SLUICE_QUEUE_PREFIX: this.queuePrefix,
      SLUICE_API_TOKEN: this.token,
      SLUICE_HTTP_HOST: '127.0.0.1',
      SLUICE_HTTP_PORT: String(port),
      SLUICE_LOG_LEVEL: 'info',
      [kind === 'master' ? 'SLUICE_MASTER_ID' : 'SLUICE_WORKER_ID']: `${this.name}-${name}`,
      SLUICE_BENCH_ZK_COUNT_FILE: zkCountFile,
      ...this.#opts.env,
      ...extra,
    };
    const dist = this.#opts.fromDist === true;
    const flags = [
      ...(dist ? [] : ['--conditions=source', '--import', join(REPO, 'bench', 'lib', 'zk-counter.ts')]),
      '--no-warnings',
      // As deployed: the flags of the program's bin (the image's ENTRYPOINT passes the same).
      ...programNodeFlags(kind),
      ...((kind === 'worker' ? this.#opts.workerNodeFlags : this.#opts.masterNodeFlags) ?? []),
    ];
    const main = dist
      ? join(REPO, 'packages', kind, 'bin', `sluice-${kind}.js`)
      : join(REPO, 'packages', kind, 'src', 'main.ts');
    if (dist && !existsSync(main)) throw new Error(`${main} is missing: run npm run build first`);
    const child = spawn(process.execPath, [...flags, main], {
      env,
      // Heap snapshots (--heapsnapshot-signal) land in the working directory.
      cwd: this.#opts.workDir ?? this.#dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    const exited = new Promise<number | string | null>((resolve) => {
      child.once('exit', (code, signal) => {
        log.end();
        resolve(code ?? signal);
      });
    });
    const p: NodeProcess = {
      name,
      pid: child.pid as number,
      url: `http://127.0.0.1:${port}`,
      logFile,
      zkCountFile,
      child,
      exited,
    };
    this.#procs.push(p);
    await waitReady(p, kind === 'master' ? '/healthz' : '/readyz');
    return p;
  }

  startMaster(extra: Record<string, string> = {}): Promise<NodeProcess> {
    return this.#start('master', extra);
  }

  startWorker(extra: Record<string, string> = {}): Promise<NodeProcess> {
    return this.#start('worker', extra);
  }

  /** ZooKeeper requests each process made (from the preloaded counter), after it stopped. */
  zkCounts(): Array<{ name: string; counts: Record<string, number> }> {
    return this.#procs.map((p) => ({
      name: p.name,
      counts: existsSync(p.zkCountFile) ? JSON.parse(readFileSync(p.zkCountFile, 'utf8')) : {},
    }));
  }

  /** SIGTERM to every process (workers first), SIGKILL after 20 s. */
  async stop(): Promise<void> {
    const order = [...this.#procs].sort(
      (a, b) => (a.name.startsWith('worker') ? -1 : 1) - (b.name.startsWith('worker') ? -1 : 1),
    );
    for (const p of order) {
      if (p.child.exitCode !== null || p.child.signalCode !== null) continue;
      p.child.kill('SIGTERM');
      const timer = setTimeout(() => p.child.kill('SIGKILL'), 20_000);
      await p.exited;
      clearTimeout(timer);
    }
  }

  /** Removes the installation's ZooKeeper chroot and BullMQ keys. */
  async clean(): Promise<void> {
    const zk = await ZkSession.open({ connect: this.#env.zookeeper, sessionTimeoutMs: 10_000 });
    try {
      await zk.removeRecursive(this.chroot);
    } finally {
      await zk.close();
    }
    const redis = new Redis(this.#env.redisUrl, { maxRetriesPerRequest: 3 });
    try {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${this.queuePrefix}:*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== '0');
    } finally {
      redis.disconnect();
    }
  }
}

async function waitReady(p: NodeProcess, path: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (p.child.exitCode !== null || p.child.signalCode !== null) {
      throw new Error(
        `${p.name} exited (${p.child.exitCode ?? p.child.signalCode}) while starting; see ${p.logFile}`,
      );
    }
    try {
      const res = await fetch(`${p.url}${path}`);
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = String(err);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`${p.name} was not ready at ${path} within ${timeoutMs} ms (${last}); see ${p.logFile}`);
}
