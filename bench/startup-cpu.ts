/**
 * The CPU seconds a built master and worker spend from spawn to ready, several starts each,
 * alternating, so that a change to start-up can be compared within one run on a loaded
 * machine (the idle bench takes one start of each). Uses the stack's settings
 * (.sluice/stack.env); each start gets its own ZooKeeper chroot and queue prefix.
 *
 *   node bench/startup-cpu.ts [--runs 5] [--only master|worker] [--repo <checkout> ...]
 *     [--cold] [--node-flag=--cpu-prof ...] [--cwd <dir for the profiles>]
 *
 * Node's compile cache (main.ts turns it on, in the OS temp dir): by default each program of
 * each checkout has a temp dir of its own, filled by one start that is not counted, so every
 * counted start is warm, as a container restarted in its pod. `--cold`: every start gets an
 * empty temp dir, as a new pod's first start (an image's baked cache, `compile-cache/` beside
 * the bundle, is still copied in: that is what a new pod gets).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadStackEnv } from '../packages/test-kit/src/stack-env.ts';
import { cpuSeconds } from './lib/proc-stats.ts';

const REPO = join(import.meta.dirname, '..');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function startOnce(
  kind: 'master' | 'worker',
  n: number,
  flags: string[],
  cwd: string,
  repo: string,
  tmp: string,
): Promise<number> {
  const port = await freePort();
  const tag = `startup-cpu-${process.pid}-${kind}-${n}-${repo.length}`;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    // Where main.ts's compile cache goes (os.tmpdir()).
    TMPDIR: tmp,
    // To compare starts with and without Node's module compile cache (main.ts turns it on).
    ...Object.fromEntries(
      ['NODE_COMPILE_CACHE', 'NODE_DISABLE_COMPILE_CACHE'].flatMap((k) => {
        const v = process.env[k];
        return v === undefined ? [] : [[k, v]];
      }),
    ),
    ...loadStackEnv(),
    SLUICE_ZOOKEEPER: `${loadStackEnv().SLUICE_ZOOKEEPER}/${tag}`,
    SLUICE_QUEUE_PREFIX: tag,
    SLUICE_API_TOKEN: 'startup-cpu-token-0123456789abcdef',
    SLUICE_HTTP_HOST: '127.0.0.1',
    SLUICE_HTTP_PORT: String(port),
    SLUICE_LOG_LEVEL: 'error',
    [kind === 'master' ? 'SLUICE_MASTER_ID' : 'SLUICE_WORKER_ID']: tag,
  };
  const child = spawn(
    process.execPath,
    // The bin, as installed: whatever the checkout's bin runs (its bundle, or dist/main.js
    // before the bundle).
    ['--no-warnings', ...flags, join(repo, 'packages', kind, 'bin', `sluice-${kind}.js`)],
    {
      env,
      cwd,
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const pid = child.pid as number;
  const path = kind === 'master' ? '/healthz' : '/readyz';
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${kind} exited ${child.exitCode}`);
      try {
        if ((await fetch(`http://127.0.0.1:${port}${path}`)).ok) return cpuSeconds(pid);
      } catch {}
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
}

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    only: { type: 'string' },
    'node-flag': { type: 'string', multiple: true, default: [] },
    cwd: { type: 'string', default: process.cwd() },
    cold: { type: 'boolean', default: false },
    // Another checkout's build (e.g. the commit before a change), to compare in the same run.
    repo: { type: 'string', multiple: true, default: [REPO] },
  },
});
const kinds = (values.only ? [values.only] : ['master', 'worker']) as Array<'master' | 'worker'>;
const scratch = mkdtempSync(join(tmpdir(), 'startup-cpu-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
const warmDirs = new Map<string, string>();
if (!values.cold) {
  for (const repo of values.repo) {
    for (const kind of kinds) {
      const dir = mkdtempSync(join(scratch, 'warm-'));
      warmDirs.set(`${kind} ${repo}`, dir);
      await startOnce(kind, -1, values['node-flag'], values.cwd, repo, dir);
    }
  }
}
const seen = new Map<string, number[]>();
for (let i = 0; i < Number(values.runs); i++) {
  for (const repo of values.repo) {
    for (const kind of kinds) {
      const key = `${kind} ${repo}`;
      const tmp = warmDirs.get(key) ?? mkdtempSync(join(scratch, 'cold-'));
      seen.set(key, [
        ...(seen.get(key) ?? []),
        await startOnce(kind, i, values['node-flag'], values.cwd, repo, tmp),
      ]);
      if (values.cold) rmSync(tmp, { recursive: true, force: true });
    }
  }
}
console.log(
  `${values.cold ? 'cold' : 'warm'} compile cache; load average ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`,
);
for (const [key, runs] of seen) {
  const s = [...runs].sort((a, b) => a - b);
  console.log(
    `${key}: median ${(s[Math.floor(s.length / 2)] ?? 0).toFixed(2)} CPU s (runs ${runs.map((x) => x.toFixed(2)).join(' ')})`,
  );
}
