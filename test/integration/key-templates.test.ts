/**
 * Issue 16, key layout, against the real stack: a topic's `keyTemplate` (Hive `dt=/hr=`, Hive
 * `year=/month=/day=/hour=`, plain `YYYY/MM/DD`, a record field's value as a folder) and a
 * prefix from the topic name's parts put the objects where a user's query engine looks; every
 * record is in S3 exactly once (the end check), the audit (deep) finds nothing wrong, the
 * finalizer's `_SUCCESS` lands in the template's time folders, and bad templates are refused
 * with a 400 naming the token.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Api, verifyEnd, waitCommitted } from '../helpers/end-check.ts';
import { highWatermarks, type TestTopic } from '../helpers/kafka.ts';
import { waitFor } from '../helpers/processes.ts';
import type { OutputLine, ProducedRecord } from '../helpers/records.ts';
import { getText, listAll } from '../helpers/s3.ts';
import { topicStack } from '../helpers/topic-stack.ts';

const { s3, bucket, api, newTopic } = topicStack('key-templates', { SLUICE_FINALIZE_INTERVAL_MS: '1000' });

const HOUR_MS = 3_600_000;
/** Two whole past hours: their folders are complete at once (finalizeLatenessMs 0, idle partitions). */
const BASE = Math.floor(Date.now() / HOUR_MS) * HOUR_MS - 3 * HOUR_MS;
const TENANTS: Array<{ value: unknown; folder: string }> = [
  { value: 'acme', folder: 'tenant=acme/' },
  { value: 'globex', folder: 'tenant=globex/' },
  { value: 'a b/c=d', folder: 'tenant=a%20b%2Fc%3Dd/' },
  { value: undefined, folder: 'tenant=__null__/' },
  { value: 7, folder: 'tenant=7/' },
];
const COUNT = 150;

/** COUNT records (ids from `first`) over two partitions and the two hours from BASE, tenants in turn. */
async function produce(t: TestTopic, first = 0): Promise<ProducedRecord[]> {
  const produced: ProducedRecord[] = [];
  const messages = [];
  for (let n = 0; n < COUNT; n++) {
    const i = first + n;
    const tenant = TENANTS[i % TENANTS.length]!.value;
    const value = JSON.stringify({ id: i, ...(tenant === undefined ? {} : { tenant }) });
    const key = `${t.name}-${i}`;
    const ts = BASE + Math.floor((n * 2 * HOUR_MS) / COUNT);
    produced.push({ key, value, headers: [], eventMs: null, partition: i % 2 });
    messages.push({ partition: i % 2, key, value, timestamp: String(ts) });
  }
  await t.producer.send({ topic: t.name, messages });
  return produced;
}

/** The folders a user expects from a record's Kafka time, written out independently of Sluice's code. */
const TIME = {
  hiveDtHr: (ms: number) => {
    const d = new Date(ms).toISOString();
    return `dt=${d.slice(0, 10)}/hr=${d.slice(11, 13)}/`;
  },
  hiveYmdh: (ms: number) => {
    const d = new Date(ms).toISOString();
    return `year=${d.slice(0, 4)}/month=${d.slice(5, 7)}/day=${d.slice(8, 10)}/hour=${d.slice(11, 13)}/`;
  },
  plainDay: (ms: number) => {
    const d = new Date(ms).toISOString();
    return `${d.slice(0, 4)}/${d.slice(5, 7)}/${d.slice(8, 10)}/`;
  },
};

function tenantFolder(p: ProducedRecord): string {
  const id = (JSON.parse(p.value!) as { id: number }).id;
  return TENANTS[id % TENANTS.length]!.folder;
}

interface Form {
  name: string;
  partitionBy: Record<string, unknown>;
  keyTemplate?: string;
  /** The destination prefix asked for, and as the topic renders it (`{topic.N}`). */
  prefix: (topic: string) => { asked: string; rendered: string };
  folderOf: (line: OutputLine, p: ProducedRecord) => string;
  /** The file name of a data object (without folders). */
  file: (topic: string) => RegExp;
  /** The time folders `_SUCCESS` is expected in (hour-partitioned forms). */
  markers?: (ms: number) => string;
}

const FILE = (topic: string) =>
  new RegExp(`^${topic.replaceAll('.', '\\.')}-[01]-\\d{20}-\\d{20}\\.jsonl\\.gz$`);
const FORMS: Form[] = [
  {
    name: 'hive-dt-hr',
    partitionBy: { kind: 'kafka-time', granularity: 'hour' },
    keyTemplate: '{dt=YYYY-MM-DD}/{hr=HH}/{topic}-{partition}-{start}-{end}',
    prefix: () => ({ asked: 'kt', rendered: 'kt' }),
    folderOf: (l) => TIME.hiveDtHr(l.timestamp),
    file: FILE,
    markers: TIME.hiveDtHr,
  },
  {
    name: 'hive-ymdh',
    partitionBy: { kind: 'kafka-time', granularity: 'hour' },
    keyTemplate: '{year=YYYY}/{month=MM}/{day=DD}/{hour=HH}/part-{partition}-{start}-{end}',
    prefix: () => ({ asked: 'kt', rendered: 'kt' }),
    folderOf: (l) => TIME.hiveYmdh(l.timestamp),
    file: () => /^part-[01]-\d{20}-\d{20}\.jsonl\.gz$/,
    markers: TIME.hiveYmdh,
  },
  {
    name: 'plain',
    partitionBy: { kind: 'kafka-time', granularity: 'day' },
    keyTemplate: '{YYYY}/{MM}/{DD}/{partition}-{start}-{end}',
    prefix: () => ({ asked: 'kt', rendered: 'kt' }),
    folderOf: (l) => TIME.plainDay(l.timestamp),
    file: () => /^[01]-\d{20}-\d{20}\.jsonl\.gz$/,
  },
  {
    name: 'field',
    partitionBy: { kind: 'kafka-time', granularity: 'hour' },
    keyTemplate: '{dt=YYYY-MM-DD}/{hr=HH}/{field:tenant}/{topic}-{partition}-{start}-{end}',
    prefix: () => ({ asked: 'kt', rendered: 'kt' }),
    folderOf: (l, p) => TIME.hiveDtHr(l.timestamp) + tenantFolder(p),
    file: FILE,
    markers: TIME.hiveDtHr,
  },
  {
    name: 'kt.parts',
    partitionBy: { kind: 'kafka-time', granularity: 'hour' },
    prefix: (topic) => ({
      asked: 'byname/{topic.0}/{topic.1}',
      rendered: `byname/kt/${topic.split('.')[1]}`,
    }),
    folderOf: (l) => TIME.hiveDtHr(l.timestamp),
    file: FILE,
    markers: TIME.hiveDtHr,
  },
];

async function checkForm(f: Form): Promise<void> {
  const t = await newTopic(f.name);
  const produced = await produce(t);
  const { asked, rendered } = f.prefix(t.name);
  const reg = await api.post('/api/v1/topics', {
    topic: t.name,
    destination: { bucket, prefix: asked },
    partitionBy: f.partitionBy,
    ...(f.keyTemplate ? { keyTemplate: f.keyTemplate } : {}),
    maxRangeMessages: 40,
    flushIntervalMs: 300,
    finalizeLatenessMs: 0,
  });
  assert.equal(reg.status, 201, JSON.stringify(reg.body));
  const got = await api.get(`/api/v1/topics/${t.name}`);
  assert.equal(got.body.keyTemplate, f.keyTemplate, 'GET answers the template as registered');
  assert.equal(got.body.destination.prefix, asked, 'GET answers the prefix as registered');

  const end = await verifyEnd({
    api,
    s3,
    admin: t.admin,
    bucket,
    prefix: rendered,
    topic: t.name,
    produced,
    folderOf: f.folderOf,
  });
  assert.ok(end.dataObjects > 0);
  const root = `${rendered}/${t.name}/`;
  const data = (await listAll(s3, bucket, root)).map((o) => o.key).filter((k) => !k.includes('/_'));
  assert.equal(data.length, end.dataObjects, 'every data object is under the topic folder');
  for (const k of data) assert.match(k.slice(k.lastIndexOf('/') + 1), f.file(t.name), k);

  if (f.markers) {
    // One marker per complete time folder of the template's style (field folders lie inside it).
    const want = [BASE, BASE + HOUR_MS].map((ms) => `${root}${f.markers!(ms)}_SUCCESS`);
    await waitFor(
      `${f.name}: _SUCCESS in ${want.join(', ')}`,
      async () => {
        const keys = new Set((await listAll(s3, bucket, root)).map((o) => o.key));
        return want.every((k) => keys.has(k));
      },
      60_000,
      500,
    );
    const marker = JSON.parse(await getText(s3, bucket, want[0]!)) as { records: number; folder: string };
    assert.equal(marker.folder, f.markers(BASE));
    assert.equal(marker.records, COUNT / 2, 'the first hour holds half the records');
    const markers = (await listAll(s3, bucket, root)).filter((o) => o.key.endsWith('/_SUCCESS'));
    assert.deepEqual(
      markers.map((o) => o.key).sort(),
      want.sort(),
      'no marker elsewhere (none per field value)',
    );
  }

  const audit = await api.get(`/api/v1/topics/${t.name}/audit?deep=true`);
  assert.equal(audit.status, 200, JSON.stringify(audit.body));
  assert.equal(audit.body.ok, true, JSON.stringify(audit.body.findings));
  assert.equal(
    audit.body.partitions.reduce((n: number, p: { records: number }) => n + p.records, 0),
    COUNT,
    'the audit accounts for every record',
  );
  if (f.markers) assert.equal(audit.body.markers, 2);

  if (f.name === 'field') {
    // Records whose tenant is missing are counted in their commit records.
    let fallbacks = 0;
    for (const o of await listAll(s3, bucket, `${root}_sluice/commits/`)) {
      fallbacks += (JSON.parse(await getText(s3, bucket, o.key)) as { fieldFallbacks: number })
        .fieldFallbacks;
    }
    assert.equal(fallbacks, COUNT / TENANTS.length);
  }
}

for (const f of FORMS) {
  test(`key layout ${f.name}: objects where the template says, exactly once, audited clean`, async () => {
    await checkForm(f);
  });
}

test('a template change applies to ranges planned after it; the end check and the audit read both layouts', async () => {
  const t = await newTopic('change');
  const before = await produce(t);
  const reg = await api.post('/api/v1/topics', {
    topic: t.name,
    destination: { bucket, prefix: 'kt' },
    maxRangeMessages: 40,
    flushIntervalMs: 300,
  });
  assert.equal(reg.status, 201, JSON.stringify(reg.body));
  await waitCommitted(api, t.name, await highWatermarks(t.admin, t.name));
  const template = '{year=YYYY}/{month=MM}/{day=DD}/{hour=HH}/{topic}-{partition}-{start}-{end}';
  const patch = await api.patch(`/api/v1/topics/${t.name}`, { keyTemplate: template });
  assert.equal(patch.status, 200, JSON.stringify(patch.body));
  assert.equal(patch.body.keyTemplate, template);
  const afterChange = await produce(t, COUNT);
  const old = new Set(before.map((p) => p.key));
  await verifyEnd({
    api,
    s3,
    admin: t.admin,
    bucket,
    prefix: 'kt',
    topic: t.name,
    produced: [...before, ...afterChange],
    folderOf: (l, p) => (old.has(p.key) ? TIME.hiveDtHr(l.timestamp) : TIME.hiveYmdh(l.timestamp)),
  });
  const audit = await api.get(`/api/v1/topics/${t.name}/audit?deep=true`);
  assert.equal(audit.status, 200, JSON.stringify(audit.body));
  assert.equal(audit.body.ok, true, JSON.stringify(audit.body.findings));
});

async function refused(a: Api, body: Record<string, unknown>, path: string, token: RegExp): Promise<void> {
  for (const url of ['/api/v1/topics?dryRun=true', '/api/v1/topics']) {
    const res = await a.post(url, body);
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.equal(res.body.code, 'SLUICE_ERR_VALIDATION');
    const text = JSON.stringify(res.body);
    assert.ok(text.includes(path), `${text} names ${path}`);
    assert.match(res.body.message, token);
  }
}

test('bad templates and prefixes are refused with a 400 naming the field and the token', async () => {
  const t = await newTopic('kt.bad');
  const base = {
    topic: t.name,
    destination: { bucket, prefix: 'kt' },
    partitionBy: { kind: 'kafka-time', granularity: 'hour' },
  };
  await refused(
    api,
    { ...base, keyTemplate: '{dt=YYYY-MM-DD}/{hr=HH}/{topic}-{partition}-{start}' },
    'keyTemplate',
    /\{end\}: the file name must keep \{partition\}-\{start\}-\{end\}/,
  );
  await refused(
    api,
    { ...base, keyTemplate: '{dt=YYYY-MM-DD}/{hr=HH}/{tenant}-{partition}-{start}-{end}' },
    'keyTemplate',
    /\{tenant\}: unknown token/,
  );
  await refused(
    api,
    { ...base, keyTemplate: '{dt=YYYY-MM-DD}/{hour=HH}/{partition}-{start}-{end}' },
    'keyTemplate',
    /two time folder styles/,
  );
  await refused(
    api,
    { ...base, partitionBy: { kind: 'none' }, keyTemplate: '{YYYY}/{MM}/{DD}/{partition}-{start}-{end}' },
    'keyTemplate',
    /\{YYYY\}: time folders need partitionBy/,
  );
  await refused(
    api,
    { ...base, destination: { bucket, prefix: 'x/{topic.2}' } },
    'destination.prefix',
    /\{topic\.2\}: topic ".*" has 2 parts/,
  );
  assert.equal((await api.get(`/api/v1/topics/${t.name}`)).status, 404, 'nothing was registered');

  // A change that breaks the template against the new partitionBy is refused too.
  const ok = await api.post('/api/v1/topics', {
    ...base,
    keyTemplate: '{dt=YYYY-MM-DD}/{hr=HH}/{partition}-{start}-{end}',
  });
  assert.equal(ok.status, 201, JSON.stringify(ok.body));
  const patch = await api.patch(`/api/v1/topics/${t.name}`, {
    partitionBy: { kind: 'kafka-time', granularity: 'day' },
  });
  assert.equal(patch.status, 400, JSON.stringify(patch.body));
  assert.match(patch.body.message, /\{dt=YYYY-MM-DD\}\/\{hr=HH\}: granularity "day"/);
});
