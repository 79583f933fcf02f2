/**
 * Topics kept as a file (issue 16), with the `sluice` CLI's built bin against a real master on
 * the local stack: a file of 50 topics applied (dry run first), changed (one line per changed
 * topic), exported and applied again (all unchanged), pruned (only with --prune), and bad files
 * refused naming the line while nothing is applied.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Admin } from 'kafkajs';
import { apiClient } from '../helpers/api.ts';
import { kafkaClient } from '../helpers/kafka.ts';
import { type SluiceProcess, TestCluster, uniqueName } from '../helpers/processes.ts';
import { createBucket, s3Client } from '../helpers/s3.ts';
import { runSluice } from '../helpers/sluice-cli.ts';

const cluster = new TestCluster({ name: 'apply' });
const bucket = uniqueName('it-apply').toLowerCase();
const dir = mkdtempSync(join(tmpdir(), 'sluice-apply-'));
const s3 = s3Client();
const base = uniqueName('apply');
const topics = Array.from({ length: 50 }, (_, i) => `${base}-${String(i).padStart(2, '0')}`);
let admin: Admin;
let master: SluiceProcess;
let api: ReturnType<typeof apiClient>;
let dropBucket: () => Promise<void>;

function sluice(args: string[]) {
  return runSluice(master, cluster.token, args, { cwd: dir, timeoutMs: 300_000 });
}

/** The topics file of `names`, with per-topic lines `extra(name)` may add (indented 4). */
function topicsFile(names: string[], extra: (name: string) => string[] = () => []): string {
  const lines = [
    '# the platform team’s topics',
    'defaults:',
    '  destination:',
    `    bucket: ${bucket}   # every topic lands here`,
    '  flushIntervalMs: 600000',
    'topics:',
  ];
  for (const name of names)
    lines.push(`  - topic: ${name}`, `    destination: { prefix: raw }`, ...extra(name));
  return `${lines.join('\n')}\n`;
}

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

interface Registered {
  topic: string;
  state: string;
  updatedAt: string;
  flushIntervalMs: number;
  compression: string;
  destination: { bucket: string; prefix: string };
}

async function registered(): Promise<Map<string, Registered>> {
  const res = await api.get('/api/v1/topics');
  assert.equal(res.status, 200);
  const list = (res.body as { topics: Registered[] }).topics;
  return new Map(list.map((t) => [t.topic, t]));
}

function linesOf(stdout: string, verb: string): string[] {
  return stdout.split('\n').filter((l) => l.startsWith(`${verb} `));
}

before(async () => {
  dropBucket = (await createBucket(s3, bucket)).delete;
  admin = kafkaClient().admin();
  await admin.connect();
  await admin.createTopics({
    topics: topics.map((topic) => ({ topic, numPartitions: 1, replicationFactor: 1 })),
    waitForLeaders: true,
  });
  master = await cluster.startMaster();
  api = apiClient(master.url, cluster.token);
});

after(async () => {
  await cluster.stopAll();
  await admin?.deleteTopics({ topics }).catch(() => {});
  await admin?.disconnect();
  await dropBucket?.();
  rmSync(dir, { recursive: true, force: true });
});

test('a file of 50 topics: the dry run registers nothing, apply registers all 50', async () => {
  const file = write('topics.yaml', topicsFile(topics));
  const dry = await sluice(['apply', '-f', file, '--dry-run']);
  assert.equal(dry.code, 0, dry.stderr);
  assert.equal(linesOf(dry.stdout, 'create').length, 50, dry.stdout);
  assert.match(dry.stdout, /dry run, nothing applied: 50 to create, 0 to change, 0 unchanged, 0 to delete/);
  assert.equal((await registered()).size, 0, 'the dry run registered nothing');

  const run = await sluice(['apply', '-f', file]);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(
    linesOf(run.stdout, 'create'),
    topics.map((t) => `create ${t}`),
  );
  const now = await registered();
  assert.deepEqual([...now.keys()].sort(), topics);
  for (const t of now.values()) {
    assert.deepEqual(t.destination, { bucket, prefix: 'raw' });
    assert.equal(t.flushIntervalMs, 600_000);
    assert.equal(t.state, 'active');
  }
});

test('a change: one line per changed topic, the others unchanged and not written', async () => {
  const before = await registered();
  const changed = new Set([topics[3], topics[17], topics[42]]);
  const file = write(
    'changed.yaml',
    topicsFile(topics, (t) =>
      t === topics[42] ? ['    compression: zstd'] : changed.has(t) ? ['    flushIntervalMs: 60000'] : [],
    ),
  );
  const run = await sluice(['apply', '-f', file]);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(linesOf(run.stdout, 'change'), [
    `change ${topics[3]}: flushIntervalMs 600000 → 60000`,
    `change ${topics[17]}: flushIntervalMs 600000 → 60000`,
    `change ${topics[42]}: compression gzip → zstd (new ranges)`,
  ]);
  assert.equal(linesOf(run.stdout, 'unchanged').length, 47);
  const now = await registered();
  assert.equal(now.get(topics[3]!)?.flushIntervalMs, 60_000);
  assert.equal(now.get(topics[42]!)?.compression, 'zstd');
  for (const t of topics.filter((x) => !changed.has(x)))
    assert.equal(now.get(t)?.updatedAt, before.get(t)?.updatedAt, `${t} was not written`);
});

test('export, then apply the export: every topic unchanged', async () => {
  const out = join(dir, 'export.yaml');
  const exp = await sluice(['export', '-o', out]);
  assert.equal(exp.code, 0, exp.stderr);
  const text = readFileSync(out, 'utf8');
  assert.doesNotMatch(text, /topicId|updatedAt|state:|starts:/, 'no field Sluice decided');
  const stdout = await sluice(['export']);
  assert.equal(stdout.stdout, text, 'stdout and -o write the same file');

  const run = await sluice(['apply', '-f', out]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(linesOf(run.stdout, 'unchanged').length, 50, run.stdout);
  assert.deepEqual(linesOf(run.stdout, 'change'), []);
});

test('a topic the file no longer names: left alone without --prune, deleted with it', async () => {
  const gone = topics[49]!;
  const file = write('pruned.yaml', topicsFile(topics.slice(0, 49)));
  const kept = await sluice(['apply', '-f', file]);
  assert.equal(kept.code, 0, kept.stderr);
  assert.match(kept.stdout, new RegExp(`^not in file ${gone} \\(left alone; --prune deletes it\\)$`, 'm'));
  assert.equal((await registered()).get(gone)?.state, 'active');

  const dry = await sluice(['apply', '-f', file, '--prune', '--dry-run']);
  assert.match(dry.stdout, new RegExp(`^would delete ${gone}$`, 'm'));
  assert.equal((await registered()).get(gone)?.state, 'active');

  const pruned = await sluice(['apply', '-f', file, '--prune']);
  assert.equal(pruned.code, 0, pruned.stderr);
  assert.match(pruned.stdout, new RegExp(`^delete ${gone}$`, 'm'));
  const state = (await registered()).get(gone)?.state;
  assert.ok(state === undefined || state === 'deleting', `deleted or being deleted, got ${state}`);
});

test('bad files are refused naming the line, and nothing is applied', async () => {
  const before = await registered();
  const syntax = write('syntax.yaml', topicsFile(topics.slice(0, 3)).replace('  - topic', '\t- topic'));
  const s = await sluice(['apply', '-f', syntax]);
  assert.equal(s.code, 1);
  assert.match(s.stderr, /syntax\.yaml:7:1: not valid YAML or JSON: Tabs are not allowed as indentation/);

  const dup = write('dup.yaml', topicsFile([topics[0]!, topics[1]!, topics[0]!]));
  const d = await sluice(['apply', '-f', dup]);
  assert.equal(d.code, 1);
  assert.match(
    d.stderr,
    new RegExp(`dup\\.yaml:11:5: topic "${topics[0]}" is named twice \\(lines 7 and 11\\)`),
  );

  // A field the master refuses, at its line; another topic's change in the same file waits.
  const text = topicsFile(topics.slice(0, 49), (t) =>
    t === topics[5] ? ['    flushIntervalMs: 5'] : t === topics[6] ? ['    compression: none'] : [],
  );
  const line = text.split('\n').indexOf('    flushIntervalMs: 5') + 1;
  const field = await sluice(['apply', '-f', write('field.yaml', text)]);
  assert.equal(field.code, 1);
  assert.match(
    field.stderr,
    new RegExp(`field\\.yaml:${line}: ${topics[5]}: flushIntervalMs: must be at least 100, got 5`),
  );
  assert.match(field.stderr, /1 refused; nothing was applied/);
  const now = await registered();
  assert.equal(now.get(topics[6]!)?.compression, 'gzip', 'nothing applied');
  for (const t of topics.slice(0, 49)) assert.equal(now.get(t)?.updatedAt, before.get(t)?.updatedAt);
});
