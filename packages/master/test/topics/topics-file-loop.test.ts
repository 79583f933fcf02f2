/**
 * The topics-file loop's rules without ZooKeeper, Kafka or S3: a file applied once per content,
 * an invalid file changing nothing and naming its line, topics the file drops kept unless it
 * says `prune: true`, a refused topic reported and retried alone, a new leader not re-applying
 * content already applied, and a ConfigMap-style symlink swap noticed. The same against the real
 * stack, through the real planner, is test/integration/topics-file.test.ts.
 */
import assert from 'node:assert/strict';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, parseTopicsFile, SluiceError } from '@sluice/shared';
import { testLogger } from '@sluice/test-kit';
import { MasterMetrics } from '../../src/status/metrics.ts';
import type { TopicsFileReport } from '../../src/status/topics-file-status.ts';
import {
  type TopicApplied,
  type TopicsConverger,
  TopicsFileLoop,
  type TopicsFileTopic,
} from '../../src/topics/topics-file-loop.ts';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

interface FakeTopic extends TopicsFileTopic {
  flush: number;
}

/**
 * A stand-in for the declarative API: files are `prune` on the first line when pruning, then
 * one `name flush` per line; `!` on a line is a syntax error there. Topics named in `refuse`
 * are refused as the API would refuse them.
 */
class FakeApi implements TopicsConverger<FakeTopic> {
  readonly topics = new Map<string, number>();
  readonly refuse = new Map<string, string>();
  applies = 0;
  parse(text: string, fileName: string) {
    const lines = text.split('\n');
    const topics: FakeTopic[] = [];
    let prune = false;
    lines.forEach((l, i) => {
      if (l.includes('!'))
        throw new SluiceError(ErrorCodes.VALIDATION, `${fileName}:${i + 1}: unexpected "!"`);
      if (l === 'prune') prune = true;
      else if (l.trim()) {
        const [topic, flush] = l.split(' ');
        topics.push({ topic: topic!, flush: Number(flush), line: i + 1 });
      }
    });
    return { prune, topics };
  }
  errorLine(err: unknown) {
    const m = /:(\d+):/.exec(err instanceof Error ? err.message : '');
    return m ? Number(m[1]) : null;
  }
  async registered() {
    return [...this.topics.keys()].sort();
  }
  async apply(t: FakeTopic): Promise<TopicApplied> {
    this.applies++;
    const why = this.refuse.get(t.topic);
    if (why) throw new SluiceError(ErrorCodes.DESTINATION_UNUSABLE, why);
    const had = this.topics.get(t.topic);
    this.topics.set(t.topic, t.flush);
    if (had === undefined) return { result: 'created', changes: [] };
    return had === t.flush
      ? { result: 'unchanged', changes: [] }
      : { result: 'changed', changes: ['flushIntervalMs'] };
  }
  async remove(topic: string) {
    this.topics.delete(topic);
  }
}

/** A report store in memory (ZooKeeper's node in the master). */
function memoryReports() {
  let stored: TopicsFileReport | null = null;
  let writes = 0;
  return {
    read: async () => stored,
    write: async (r: TopicsFileReport) => {
      stored = structuredClone(r);
      writes++;
    },
    get writes() {
      return writes;
    },
  };
}

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-topics-file-'));
  const path = join(dir, 'topics.txt');
  const api = new FakeApi();
  const reports = memoryReports();
  const metrics = new MasterMetrics({ defaultMetrics: false });
  const loop = (p = path) =>
    new TopicsFileLoop({
      path: p,
      intervalMs: 60_000,
      master: 'm-1',
      converger: api,
      reports,
      log: testLogger(),
      metrics,
    });
  return {
    dir,
    path,
    api,
    reports,
    metrics,
    loop,
    done: () => rmSync(dir, { recursive: true, force: true }),
  };
}

const summary = (r: TopicsFileReport) => r.actions.map((a) => `${a.action} ${a.topic}`);

test('a file is applied once per content: created, then changed and unchanged, kept without prune, deleted with it', async (t) => {
  const s = setup();
  t.after(s.done);
  writeFileSync(s.path, 'orders 1000\nclicks 2000\n');
  const loop = s.loop();
  let r = await loop.pass();
  assert.equal(r.result, 'applied');
  assert.deepEqual(summary(r), ['created clicks', 'created orders']);
  assert.equal(r.actions.find((a) => a.topic === 'clicks')?.line, 2);
  assert.equal(r.appliedHash, r.hash);

  // The same content again: nothing is applied (API writes made meanwhile stay).
  const applies = s.api.applies;
  r = await loop.pass();
  assert.equal(s.api.applies, applies);
  assert.equal(s.reports.writes, 1);

  writeFileSync(s.path, 'orders 5000\n');
  r = await loop.pass();
  assert.deepEqual(summary(r), ['kept clicks', 'changed orders']);
  assert.deepEqual(r.actions.find((a) => a.topic === 'orders')?.changes, ['flushIntervalMs']);
  assert.deepEqual(
    [...s.api.topics.keys()].sort(),
    ['clicks', 'orders'],
    'no prune: clicks stays registered',
  );

  writeFileSync(s.path, 'prune\norders 5000\n');
  r = await loop.pass();
  assert.equal(r.prune, true);
  assert.deepEqual(summary(r), ['deleted clicks', 'unchanged orders']);
  assert.deepEqual([...s.api.topics.keys()], ['orders']);
  assert.match(await s.metrics.registry.metrics(), /sluice_topics_file_applies_total\{result="applied"\} 3/);
});

test('an invalid file changes nothing and is reported naming its line; the fixed file applies', async (t) => {
  const s = setup();
  t.after(s.done);
  writeFileSync(s.path, 'orders 1000\n');
  const loop = s.loop();
  const applied = await loop.pass();
  writeFileSync(s.path, 'orders 9000\nclicks 1!\n');
  const r = await loop.pass();
  assert.equal(r.result, 'invalid');
  assert.equal(r.line, 2);
  assert.match(r.error ?? '', /topics\.txt:2: unexpected "!".*nothing was changed/);
  assert.equal(r.appliedHash, applied.hash, 'the last applied content is still named');
  assert.notEqual(r.hash, applied.hash);
  assert.deepEqual([...s.api.topics], [['orders', 1000]]);
  assert.match(await s.metrics.registry.metrics(), /sluice_topics_file_applies_total\{result="invalid"\} 1/);

  writeFileSync(s.path, 'orders 9000\nclicks 1\n');
  assert.equal((await loop.pass()).result, 'applied');
  assert.deepEqual([...s.api.topics].sort(), [
    ['clicks', 1],
    ['orders', 9000],
  ]);
});

test('a missing file changes nothing and says which setting to fix', async (t) => {
  const s = setup();
  t.after(s.done);
  const r = await s.loop().pass();
  assert.equal(r.result, 'unreadable');
  assert.match(r.error ?? '', /cannot read SLUICE_TOPICS_FILE .*topics\.txt.*ENOENT.*nothing was changed/);
  assert.equal(s.api.applies, 0);
});

test('a refused topic is reported with the reason, the rest applies, and only it is retried', async (t) => {
  const s = setup();
  t.after(s.done);
  s.api.refuse.set('clicks', 'bucket "nope" does not exist; create it or change destination.bucket');
  writeFileSync(s.path, 'orders 1000\nclicks 2000\n');
  const loop = s.loop();
  let r = await loop.pass();
  assert.equal(r.result, 'partly-refused');
  assert.deepEqual(r.refusals, [
    {
      topic: 'clicks',
      action: 'apply',
      code: 'SLUICE_ERR_DESTINATION_UNUSABLE',
      message: 'bucket "nope" does not exist; create it or change destination.bucket',
      line: 2,
    },
  ]);
  assert.deepEqual(summary(r), ['created orders']);
  assert.match(await s.metrics.registry.metrics(), /sluice_topics_file_refused_topics 1/);

  // Too soon: nothing is tried again (each try counts against the API's rate limit).
  const [applies, writes] = [s.api.applies, s.reports.writes];
  await loop.pass();
  assert.equal(s.api.applies, applies);

  // Still refused: the report is not written again; orders is not applied again.
  loop.retryNow();
  r = await loop.pass();
  assert.equal(s.api.applies, applies + 1);
  assert.equal(s.reports.writes, writes);

  s.api.refuse.clear();
  loop.retryNow();
  r = await loop.pass();
  assert.equal(r.result, 'applied');
  assert.deepEqual(summary(r), ['created clicks', 'created orders']);
  assert.equal(s.api.applies, applies + 2, 'only the refused topic was tried again');
  assert.match(await s.metrics.registry.metrics(), /sluice_topics_file_refused_topics 0/);
});

test('a new leader does not re-apply content already applied, so API writes made since stay', async (t) => {
  const s = setup();
  t.after(s.done);
  writeFileSync(s.path, 'orders 1000\n');
  await s.loop().pass();
  s.api.topics.set('orders', 4242); // a PATCH through the API
  const r = await s.loop().pass();
  assert.equal(r.result, 'applied');
  assert.equal(s.api.topics.get('orders'), 4242);
  writeFileSync(s.path, 'orders 3000\n');
  await s.loop().pass();
  assert.equal(s.api.topics.get('orders'), 3000, 'the next change of the file wins');
});

test('a ConfigMap update (symlink swap of ..data) is noticed by its content', async (t) => {
  const s = setup();
  t.after(s.done);
  // kubelet's layout: topics.yaml -> ..data/topics.yaml, ..data -> ..2026_v1
  for (const [v, text] of [
    ['..v1', 'orders 1000\n'],
    ['..v2', 'orders 2000\n'],
  ] as const) {
    mkdirSync(join(s.dir, v));
    writeFileSync(join(s.dir, v, 'topics.yaml'), text);
  }
  symlinkSync('..v1', join(s.dir, '..data'));
  const path = join(s.dir, 'topics.yaml');
  symlinkSync('..data/topics.yaml', path);
  const loop = s.loop(path);
  await loop.pass();
  assert.equal(s.api.topics.get('orders'), 1000);
  symlinkSync('..v2', join(s.dir, '..data_tmp'));
  renameSync(join(s.dir, '..data_tmp'), join(s.dir, '..data'));
  const r = await loop.pass();
  assert.deepEqual(summary(r), ['changed orders']);
  assert.equal(s.api.topics.get('orders'), 2000);
});

test("the Kubernetes manifests' example topics file is a valid topics file", () => {
  for (const path of [
    'deploy/k8s/components/topics-file/topics.yaml',
    'deploy/helm/sluice/files/topics-example.yaml',
  ]) {
    const text = readFileSync(join(REPO, path), 'utf8');
    const file = parseTopicsFile(text, path);
    assert.equal(file.prune, false, `${path}: the example deletes nothing`);
    assert.deepEqual(
      file.topics.map((t) => t.topic),
      ['orders', 'clicks'],
    );
  }
});
