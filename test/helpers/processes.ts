/**
 * Starts real `sluice-master` and `sluice-worker` processes (the built bins) for integration
 * and fault tests, each with its own log file under `.sluice/test-logs/`. Every process a
 * test starts is stopped when the test ends (`t.after(() => cluster.stopAll())`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadStackEnv, uniqueName } from '@sluice/test-kit';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const LOG_DIR = join(REPO, '.sluice', 'test-logs');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Re-exported for the many tests that import it from here; the kit's is the one definition. */
export { uniqueName };

export interface SluiceProcess {
  name: string;
  child: ChildProcess;
  url: string;
  logFile: string;
  /** Sends a signal; resolves with the exit code (or signal name) once the process ended. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | string | null>;
  exited: Promise<number | string | null>;
}

export interface ClusterOptions {
  /** Test name, for isolation (ZooKeeper chroot, queue prefix) and log file names. */
  name: string;
  /** Extra settings for every process. */
  env?: Record<string, string>;
}

/** One isolated Sluice installation on the shared local stack. */
export class TestCluster {
  readonly name: string;
  readonly token = randomBytes(32).toString('hex');
  readonly chroot: string;
  readonly queuePrefix: string;
  readonly env: Record<string, string>;
  readonly #procs = new Set<SluiceProcess>();
  #count = 0;

  constructor(opts: ClusterOptions) {
    this.name = uniqueName(opts.name);
    this.chroot = `/it/${this.name}`;
    this.queuePrefix = this.name;
    const stack = loadStackEnv();
    this.env = {
      ...stack,
      SLUICE_ZOOKEEPER: `${stack.SLUICE_ZOOKEEPER}${this.chroot}`,
      SLUICE_QUEUE_PREFIX: this.queuePrefix,
      SLUICE_API_TOKEN: this.token,
      SLUICE_HTTP_HOST: '127.0.0.1',
      SLUICE_LOG_LEVEL: 'debug',
      SLUICE_PLAN_INTERVAL_MS: '250',
      SLUICE_ZK_SESSION_TIMEOUT_MS: '4000',
      SLUICE_STALL_TIMEOUT_MS: '20000',
      SLUICE_RECONCILE_INTERVAL_MS: '3000',
      SLUICE_WORKER_PROGRESS_INTERVAL_MS: '1000',
      // Tests cut ranges of tens to hundreds of records on purpose (many ranges from little
      // data); the installation's floor on range sizes is lowered for them, as an operator can.
      SLUICE_MIN_RANGE_MESSAGES: '1',
      ...opts.env,
    };
  }

  /**
   * `release`: the root of another release's checkout (upgrade test), run from its sources;
   * by default this repository's built bin.
   */
  async #start(
    kind: 'master' | 'worker',
    extra: Record<string, string>,
    release?: string,
  ): Promise<SluiceProcess> {
    const n = ++this.#count;
    const port = await freePort();
    const name = `${kind}-${n}`;
    mkdirSync(LOG_DIR, { recursive: true });
    const logFile = join(LOG_DIR, `${this.name}-${name}.log`);
    const log = createWriteStream(logFile);
    const args = release
      ? ['--conditions=source', join(release, 'packages', kind, 'src', 'main.ts')]
      : [join(REPO, 'packages', kind, 'bin', `sluice-${kind}.js`)];
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      ...this.env,
      SLUICE_HTTP_PORT: String(port),
      [kind === 'master' ? 'SLUICE_MASTER_ID' : 'SLUICE_WORKER_ID']: `${this.name}-${name}`,
      ...extra,
    };
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    const exited = new Promise<number | string | null>((resolve) => {
      child.once('exit', (code, signal) => {
        log.end();
        resolve(code ?? signal);
      });
    });
    const proc: SluiceProcess = {
      name,
      child,
      url: `http://127.0.0.1:${port}`,
      logFile,
      exited,
      stop: async (signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000) => {
        if (child.exitCode !== null || child.signalCode !== null) return exited;
        child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        const r = await exited;
        clearTimeout(timer);
        return r;
      },
    };
    this.#procs.add(proc);
    exited.then(() => this.#procs.delete(proc));
    await waitHealthy(proc);
    return proc;
  }

  startMaster(extra: Record<string, string> = {}, release?: string): Promise<SluiceProcess> {
    return this.#start('master', extra, release);
  }

  startWorker(extra: Record<string, string> = {}, release?: string): Promise<SluiceProcess> {
    return this.#start('worker', extra, release);
  }

  /**
   * Runs a program's bin with the cluster's settings and `env` until it exits, or (with `until`)
   * until its output matches, then stops it: its exit code (null when stopped) and output. For
   * what a program says at start, and whether it stops there.
   */
  runUntil(
    kind: 'master' | 'worker',
    env: Record<string, string>,
    until?: RegExp,
  ): Promise<{ code: number | null; out: string }> {
    const child = spawn(process.execPath, [join(REPO, 'packages', kind, 'bin', `sluice-${kind}.js`)], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        ...this.env,
        SLUICE_HTTP_PORT: '0',
        SLUICE_LOG_LEVEL: 'info',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`sluice-${kind} neither exited nor printed ${until} within 30 s:\n${out}`));
      }, 30_000);
      const seen = (d: Buffer) => {
        out += d;
        if (until?.test(out)) {
          clearTimeout(timer);
          child.kill('SIGKILL');
          resolve({ code: null, out });
        }
      };
      child.stdout.on('data', seen);
      child.stderr.on('data', seen);
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, out });
      });
    });
  }

  /** Stops every process still running (SIGTERM, then SIGKILL). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.#procs].map((p) => p.stop('SIGTERM', 15_000)));
  }
}

async function waitHealthy(p: SluiceProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (p.child.exitCode !== null || p.child.signalCode !== null) {
      throw new Error(
        `${p.name} exited (${p.child.exitCode ?? p.child.signalCode}) during start; see ${p.logFile}`,
      );
    }
    try {
      const res = await fetch(`${p.url}/healthz`);
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = String(err);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${p.name} did not answer /healthz within ${timeoutMs} ms (${last}); see ${p.logFile}`);
}

/** Polls `fn` until it returns a truthy value; throws with `what` after the timeout. */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | null | false>,
  timeoutMs = 120_000,
  everyMs = 500,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? ` (last error: ${String(lastErr)})` : ''}`,
  );
}
