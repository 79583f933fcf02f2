/**
 * Upgrade in place, end to end: a live installation of the previous release (its master and
 * workers run from its own sources, taken from git history) moves a topic under a steady load;
 * mid-flight it is upgraded the way the README says (workers first, one of the old ones killed
 * in the middle of a range; then a new master, and the old one stopped), with one old worker
 * late, still taking jobs of the new leader. The new leader migrates
 * the ZooKeeper tree to this release's layout once, and every record still lands exactly once
 * (the end check of the fault tests).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { LAYOUT_PATH, type LayoutRecord, ZK_LAYOUT_VERSION } from '@sluice/shared';
import { apiClient } from '../helpers/api.ts';
import { verifyEnd } from '../helpers/end-check.ts';
import { createTopic, highWatermarks, kafkaClient, type TestTopic } from '../helpers/kafka.ts';
import { produceAll, steadyLoad } from '../helpers/load.ts';
import { REPO, type SluiceProcess, TestCluster, uniqueName, waitFor } from '../helpers/processes.ts';
import { makeEvents } from '../helpers/records.ts';
import { createBucket, s3Client } from '../helpers/s3.ts';
import { ZkView } from '../helpers/zk-view.ts';

/** The previous release: main before the restructuring of issue 12, whose ZooKeeper tree has no layout version (layout 1). */
const PREVIOUS_RELEASE = '78e7362';

/**
 * The previous release's packages in a directory of their own, with this checkout's
 * node_modules (same lockfile) except `@sluice/*`, which point at the old packages.
 */
function checkoutRelease(commit: string): string {
  const dir = mkdtempSync(join(tmpdir(), `sluice-release-${commit}-`));
  try {
    const archive = execFileSync('git', ['-C', REPO, 'archive', commit, 'packages', 'package.json'], {
      maxBuffer: 256 * 1024 * 1024,
    });
    execFileSync('tar', ['-x', '-C', dir], { input: archive });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(
      `the upgrade test runs release ${commit} from git history, which this checkout lacks: ` +
        `fetch it (git fetch --unshallow) and run again (${String(err)})`,
    );
  }
  const modules = join(dir, 'node_modules');
  mkdirSync(join(modules, '@sluice'), { recursive: true });
  for (const name of readdirSync(join(REPO, 'node_modules'))) {
    if (name === '@sluice' || name.startsWith('.')) continue;
    symlinkSync(join(REPO, 'node_modules', name), join(modules, name));
  }
  for (const pkg of ['shared', 'master', 'worker']) {
    symlinkSync(join(dir, 'packages', pkg), join(modules, '@sluice', pkg));
  }
  return dir;
}

const kafka = kafkaClient();
const s3 = s3Client();
const cluster = new TestCluster({ name: 'upgrade' });
const bucket = uniqueName('it-upgrade').toLowerCase();
let previous: string;
let zk: ZkView;
let topic: TestTopic;
let dropBucket: () => Promise<void>;

before(async () => {
  previous = checkoutRelease(PREVIOUS_RELEASE);
  dropBucket = (await createBucket(s3, bucket)).delete;
  zk = await ZkView.open(cluster.env.SLUICE_ZOOKEEPER!);
  topic = await createTopic(kafka, uniqueName('upgrade'), 4);
});

after(async () => {
  await cluster.stopAll();
  await zk?.close();
  await topic?.delete();
  await dropBucket?.();
  if (previous) rmSync(previous, { recursive: true, force: true });
});

test('a live installation of the previous release upgrades in place: no record lost or written twice', async (t) => {
  const t0 = Date.now();
  const oldMaster = await cluster.startMaster({}, previous);
  const oldWorkers: SluiceProcess[] = [];
  for (let i = 0; i < 2; i++)
    oldWorkers.push(await cluster.startWorker({ SLUICE_WORKER_CONCURRENCY: '2' }, previous));
  const oldApi = apiClient(oldMaster.url, cluster.token);

  const produced = makeEvents(16_000, {
    startMs: Date.now() - 3600_000,
    spanMs: 3600_000,
    partitions: 4,
    tombstoneEvery: 97,
  });
  await produceAll(topic.producer, topic.name, produced.slice(0, 4_000));
  const res = await oldApi.post('/api/v1/topics', {
    topic: topic.name,
    destination: { bucket, prefix: 'upgrade' },
    partitionBy: { kind: 'kafka-time', granularity: 'hour' },
    maxRangeMessages: 250,
    flushIntervalMs: 500,
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  // The rest comes in two parts: the second is produced only once the new leader leads.
  const load = steadyLoad(topic.producer, topic.name, produced.slice(4_000, 10_000), 1_000);

  // Mid-flight: the old release has committed ranges and has others in flight.
  const busy = await waitFor(
    'the previous release to commit ranges and have one active',
    async () => {
      const committed = await Promise.all(
        (await zk.partitions(topic.name)).map((p) => zk.partitionState(topic.name, p)),
      );
      const active = (await zk.ranges(topic.name)).filter((r) => r.record.state === 'active');
      return committed.some((s) => s !== null && BigInt(s.committedOffset) > 0n) && active.length > 0
        ? active
        : false;
    },
    60_000,
    50,
  );
  assert.equal(await zk.session.get(LAYOUT_PATH), null, 'the previous release writes no layout node');

  // Workers first: the new ones read the old master's job payloads.
  await cluster.startWorker({ SLUICE_WORKER_CONCURRENCY: '2' });
  await cluster.startWorker({ SLUICE_WORKER_CONCURRENCY: '2' });
  // One old worker dies in the middle of a range; the other lingers past the master upgrade, so
  // that it takes jobs the new master enqueued (a rollout that is late with a worker).
  const victimId = busy[0]!.record.worker;
  const victim = oldWorkers.find((w) => `${cluster.name}-${w.name}` === victimId) ?? oldWorkers[0]!;
  victim.child.kill('SIGKILL');
  await victim.exited;
  const straggler = oldWorkers.find((w) => w !== victim)!;

  // Then the masters: the new one waits as a standby and leads once the old one is gone.
  const newMaster = await cluster.startMaster();
  const upgradeAt = Date.now();
  await oldMaster.stop();
  const layout = await waitFor(
    'the new leader to migrate the ZooKeeper tree',
    async () => {
      const node = await zk.session.get(LAYOUT_PATH);
      return node ? (JSON.parse(node.data.toString('utf8')) as LayoutRecord) : false;
    },
    60_000,
    100,
  );
  assert.equal(layout.layout, ZK_LAYOUT_VERSION);
  assert.equal(layout.from, 1);
  const migratedMs = Date.now() - upgradeAt;
  // The old worker writes a range the new leader planned: one beyond the high watermarks now,
  // which every range the old master planned ends below. Then it stops as an orchestrator stops it.
  await load.done;
  const frontier = await highWatermarks(topic.admin, topic.name);
  const load2 = steadyLoad(topic.producer, topic.name, produced.slice(10_000), 1_000);
  const lateRange = await waitFor(
    "the previous release's worker to write a range the new leader planned",
    async () => {
      for (const line of readFileSync(straggler.logFile, 'utf8').split('\n')) {
        if (!line.includes('"range written"')) continue;
        const m = /-(\d+)-(\d+)-(\d+)$/.exec((JSON.parse(line) as { range: string }).range);
        if (m && BigInt(m[2]!) >= (frontier.get(Number(m[1])) ?? 0n)) return `${m[1]}/${m[2]}-${m[3]}`;
      }
      return false;
    },
    60_000,
    100,
  );
  await straggler.stop();

  await load2.done;
  const api = apiClient(newMaster.url, cluster.token);
  const end = await verifyEnd({
    timeoutMs: 120_000,
    api,
    s3,
    admin: topic.admin,
    bucket,
    prefix: 'upgrade',
    topic: topic.name,
    produced,
  });
  t.diagnostic(
    `upgraded mid-flight (${busy.length} range(s) active, one old worker SIGKILLed, the other took range ` +
      `${lateRange} of the new leader); layout ${layout.from} -> ${layout.layout} ` +
      `${migratedMs} ms after the old master stopped; ${end.commitRecords} ranges, ${end.dataObjects} objects, ` +
      `${produced.length} records exactly once; ${Date.now() - t0} ms in all`,
  );
});
