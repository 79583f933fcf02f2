/**
 * The images as an operator runs them: a master and two workers from `sluice-master` and
 * `sluice-worker` (built by `npm run images`), run by podman with the hardening of the
 * Kubernetes manifests and compose.yaml (read-only root filesystem, a tmpfs /tmp, no
 * capabilities, no new privileges, the images' own non-root user), on the host's network
 * against the shared local stack. They move a topic to S3 exactly once (the end check of the
 * fault tests); the images' health checks answer; the processes run as uid 1000 and cannot
 * write their root filesystem; `sluice`, the CLI package's bin, is on both images' PATH.
 *
 * Needs podman and the two images: `npm run images && npm run test:images`. Without them
 * the test fails and says which is missing.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { apiClient } from '../helpers/api.ts';
import { verifyEnd } from '../helpers/end-check.ts';
import { createTopic, kafkaClient, type TestTopic } from '../helpers/kafka.ts';
import { produceAll } from '../helpers/load.ts';
import { freePort, REPO, TestCluster, waitFor } from '../helpers/processes.ts';
import { makeEvents } from '../helpers/records.ts';
import { createBucket, s3Client } from '../helpers/s3.ts';

const TAG = process.env.SLUICE_IMAGE_TAG || 'dev';
const IMAGE = { master: `localhost/sluice-master:${TAG}`, worker: `localhost/sluice-worker:${TAG}` };

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

function podman(args: string[], env: NodeJS.ProcessEnv = process.env): Ran {
  const r = spawnSync('podman', args, { env, encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw new Error(`podman ${args[0]}: ${r.error.message} (is podman installed?)`);
  return { status: r.status, stdout: r.stdout.trim(), stderr: r.stderr.trim() };
}

function podmanOk(args: string[], env?: NodeJS.ProcessEnv): string {
  const r = podman(args, env);
  assert.equal(r.status, 0, `podman ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/**
 * Options for the machine rather than for Sluice. runc when it is there: crun refuses a host
 * with both cgroup v1 and v2 mounted ("cgroups in hybrid mode not supported"), as this
 * project's machines have. Explicit limits at or below the caller's own: podman otherwise
 * raises RLIMIT_NOFILE and RLIMIT_NPROC, which a sandbox without CAP_SYS_RESOURCE refuses.
 */
function machineOptions(): string[] {
  const opts: string[] = [];
  if (spawnSync('sh', ['-c', 'command -v runc']).status === 0) opts.push('--runtime', 'runc');
  const nofile = spawnSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).stdout.trim();
  const n = /^\d+$/.test(nofile) ? Math.min(Number(nofile), 65536) : 4096;
  opts.push('--ulimit', `nofile=${n}:${n}`, '--ulimit', 'nproc=4096:4096');
  return opts;
}

const cluster = new TestCluster({ name: 'images' });
const kafka = kafkaClient();
const s3 = s3Client();
const bucket = cluster.name.toLowerCase();
const containers: string[] = [];
let topic: TestTopic;
let dropBucket: (() => Promise<void>) | undefined;

/**
 * Starts one container from `image` with the cluster's settings; resolves with its name and
 * address once /healthz answers. Settings go in as `-e NAME` (values from podman's own
 * environment), so the API token is never on a command line.
 */
async function run(kind: 'master' | 'worker', n: number): Promise<{ name: string; url: string }> {
  const port = await freePort();
  const name = `${cluster.name}-${kind}-${n}`;
  const settings: Record<string, string> = {
    ...cluster.env,
    SLUICE_HTTP_PORT: String(port),
    SLUICE_LOG_LEVEL: 'info',
    [kind === 'master' ? 'SLUICE_MASTER_ID' : 'SLUICE_WORKER_ID']: name,
  };
  const args = ['run', '--detach', '--name', name, '--network', 'host', ...machineOptions()];
  args.push('--read-only', '--tmpfs', '/tmp:size=64m', '--cap-drop', 'ALL');
  args.push('--security-opt', 'no-new-privileges');
  for (const key of Object.keys(settings)) args.push('--env', key);
  podmanOk([...args, IMAGE[kind]], { ...process.env, ...settings });
  containers.push(name);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    `${name} answers /healthz`,
    async () => {
      const state = podman(['inspect', '--format', '{{.State.Status}}', name]).stdout;
      if (state !== 'running') throw new Error(`${name} is ${state}:\n${podman(['logs', name]).stderr}`);
      return (await fetch(`${url}/healthz`).catch(() => null))?.ok ?? false;
    },
    60_000,
    250,
  );
  return { name, url };
}

before(async () => {
  for (const image of Object.values(IMAGE)) {
    const r = podman(['image', 'exists', image]);
    assert.equal(r.status, 0, `image ${image} is missing: build it with \`npm run images\``);
  }
  dropBucket = (await createBucket(s3, bucket)).delete;
  topic = await createTopic(kafka, `${cluster.name}-weblogs`, 3);
});

after(async () => {
  mkdirSync(join(REPO, '.sluice', 'test-logs'), { recursive: true });
  for (const name of containers) {
    // The logs beside the other tests' (.sluice/test-logs), for a failure's post-mortem.
    const logs = podman(['logs', name]);
    writeFileSync(join(REPO, '.sluice', 'test-logs', `${name}.log`), `${logs.stdout}\n${logs.stderr}\n`);
    podman(['stop', '--time', '30', name]);
    podman(['rm', '--force', name]);
  }
  await topic?.delete();
  await dropBucket?.();
});

test('a master and two workers from the images move a topic to S3 exactly once, hardened', async (t) => {
  const master = await run('master', 1);
  const workers = [await run('worker', 1), await run('worker', 2)];
  const api = apiClient(master.url, cluster.token);

  // The images' own HEALTHCHECK (healthcheck.mjs inside the container) passes.
  for (const c of [master, ...workers]) {
    const r = podman(['healthcheck', 'run', c.name]);
    assert.equal(r.status, 0, `${c.name}: the image's HEALTHCHECK fails: ${r.stdout} ${r.stderr}`);
  }
  // Non-root: the program's process, seen from the host, runs as uid 1000 (no user namespace).
  for (const c of [master, ...workers]) {
    const pid = podmanOk(['inspect', '--format', '{{.State.Pid}}', c.name]);
    const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    assert.equal(uid, '1000', `${c.name}: the program runs as uid ${uid}`);
  }
  // The root filesystem is read-only to the program; /tmp is the one writable place.
  const write = podman(['exec', master.name, 'node', '-e', "require('fs').writeFileSync('/app/x', '')"]);
  assert.notEqual(write.status, 0, 'writing /app/x in the master container succeeded');
  assert.match(write.stderr, /EROFS|read-only/i);
  podmanOk(['exec', master.name, 'node', '-e', "require('fs').writeFileSync('/tmp/x', '')"]);

  // Both workers registered with the master.
  await waitFor('both workers live', async () => {
    const res = await api.get('/api/v1/workers');
    const ids = (res.body as { workers: Array<{ id: string }> }).workers.map((w) => w.id);
    return workers.every((w) => ids.includes(w.name));
  });
  const ready = await fetch(`${master.url}/readyz`);
  assert.equal(ready.status, 200, 'the master is ready (it leads)');

  const produced = makeEvents(3_000, {
    startMs: Date.now() - 3600_000,
    spanMs: 3600_000,
    partitions: 3,
    tombstoneEvery: 101,
  });
  await produceAll(topic.producer, topic.name, produced);
  // Registered with the CLI on the master image's PATH, as an operator would from a shell in it.
  const add = podman(
    [
      'exec',
      '--env',
      'SLUICE_API_URL',
      '--env',
      'SLUICE_API_TOKEN',
      master.name,
      'sluice',
      'topics',
      'add',
      topic.name,
      '--bucket',
      bucket,
      '--prefix',
      'images',
      '--max-range-messages',
      '200',
      '--flush-interval-ms',
      '500',
    ],
    { ...process.env, SLUICE_API_URL: master.url, SLUICE_API_TOKEN: cluster.token },
  );
  assert.equal(add.status, 0, `sluice topics add in the master container: ${add.stdout} ${add.stderr}`);

  // The worker image carries the same CLI (packages/cli), at the repository's version.
  const cliVersion = (JSON.parse(readFileSync('packages/cli/package.json', 'utf8')) as { version: string })
    .version;
  const workerCli = podman(['exec', workers[0]?.name ?? '', 'sluice', '--version']);
  assert.equal(
    workerCli.status,
    0,
    `sluice --version in a worker container: ${workerCli.stdout} ${workerCli.stderr}`,
  );
  assert.equal(workerCli.stdout.trim(), cliVersion, 'the worker image runs the CLI package of this checkout');

  const end = await verifyEnd({
    api,
    s3,
    admin: topic.admin,
    bucket,
    prefix: 'images',
    topic: topic.name,
    produced,
  });
  // Which worker wrote how many ranges (for the reader: the queue decides, so no assertion).
  const share = workers.map((w) => {
    const written = podman(['logs', w.name]).stdout.match(/"msg":"range written"/g) ?? [];
    return `${w.name.replace(`${cluster.name}-`, '')} ${written.length}`;
  });
  t.diagnostic(
    `${end.commitRecords} commit records, ${end.dataObjects} data objects, ${produced.length} records; ranges written: ${share.join(', ')}`,
  );
});
