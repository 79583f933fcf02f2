/**
 * Key templates (issue 16, key layout): every form builds keys that parse back to their range
 * and time span without the template, and every template registration must refuse is refused
 * naming the token. The master's audit and finalizer rely on both.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type Compression,
  dataObjectKey,
  escapeFieldValue,
  FIELD_FALLBACK,
  FieldFolders,
  type Granularity,
  keyLayoutOf,
  type OutputSpec,
  type PartitionBy,
  parseDataObjectName,
  parseKeyTemplate,
  parseSuccessMarkerKey,
  prefixProblem,
  successMarkerKey,
  timeFolder,
  timeFolderStart,
  timeUnitOfFolder,
  topicConfigProblems,
  topicPrefix,
  topicRoot,
} from '@sluice/shared';

const HOUR: PartitionBy = { kind: 'kafka-time', granularity: 'hour' };
const DAY: PartitionBy = { kind: 'event-time', field: 'ts', granularity: 'day' };
const NONE: PartitionBy = { kind: 'none' };
const T = Date.UTC(2026, 10, 25, 8, 30);
const RANGE = { topic: 'sales.orders-v1', partition: 7, start: 1_000n, end: 2_000n };

function spec(partitionBy: PartitionBy, keyTemplate?: string, compression: Compression = 'gzip'): OutputSpec {
  return {
    destination: { bucket: 'b', prefix: 'lake/{topic.0}' },
    format: 'jsonl',
    compression,
    partitionBy,
    serverSideEncryption: 'none',
    kmsKeyId: '',
    storageClass: 'STANDARD',
    ...(keyTemplate !== undefined ? { keyTemplate } : {}),
  };
}

/** A key of the range in the folders of time `T` and the record value `value`. */
function keyOf(s: OutputSpec, value: unknown): string {
  const layout = keyLayoutOf(s);
  const time = s.partitionBy.kind === 'none' ? '' : timeFolder(s.partitionBy.granularity, T, layout.time);
  return dataObjectKey(s, RANGE, time + new FieldFolders(layout).folderOf(value));
}

const FORMS: Array<{ partitionBy: PartitionBy; template: string | undefined; key: string }> = [
  {
    partitionBy: HOUR,
    template: undefined,
    key: 'lake/sales/sales.orders-v1/dt=2026-11-25/hr=08/sales.orders-v1-7-00000000000000001000-00000000000000002000.jsonl.gz',
  },
  {
    partitionBy: HOUR,
    template: '{dt=YYYY-MM-DD}/{hr=HH}/{topic}-{partition}-{start}-{end}',
    key: 'lake/sales/sales.orders-v1/dt=2026-11-25/hr=08/sales.orders-v1-7-00000000000000001000-00000000000000002000.jsonl.gz',
  },
  {
    partitionBy: HOUR,
    template: '{year=YYYY}/{month=MM}/{day=DD}/{hour=HH}/part-{partition}-{start}-{end}',
    key: 'lake/sales/sales.orders-v1/year=2026/month=11/day=25/hour=08/part-7-00000000000000001000-00000000000000002000.jsonl.gz',
  },
  {
    partitionBy: HOUR,
    template: '{YYYY}/{MM}/{DD}/{HH}/{partition}-{start}-{end}',
    key: 'lake/sales/sales.orders-v1/2026/11/25/08/7-00000000000000001000-00000000000000002000.jsonl.gz',
  },
  {
    partitionBy: DAY,
    template: '{YYYY}/{MM}/{DD}/{field:tenant}/{field:event.type}/{topic}.{partition}-{start}-{end}.v2',
    key: 'lake/sales/sales.orders-v1/2026/11/25/tenant=acme%20eu/event_type=click/sales.orders-v1.7-00000000000000001000-00000000000000002000.v2.jsonl.gz',
  },
  {
    partitionBy: NONE,
    template: '{field:tenant}/{topic}-{partition}-{start}-{end}',
    key: 'lake/sales/sales.orders-v1/tenant=acme%20eu/sales.orders-v1-7-00000000000000001000-00000000000000002000.jsonl.gz',
  },
];

test('every template form builds the documented key, which parses back to its range and time span', () => {
  const value = { tenant: 'acme eu', event: { type: 'click' } };
  for (const f of FORMS) {
    const s = spec(f.partitionBy, f.template);
    const key = keyOf(s, value);
    assert.equal(key, f.key, f.template);
    const root = topicRoot(s.destination.prefix, RANGE.topic);
    assert.equal(root, 'lake/sales/sales.orders-v1/');
    const parsed = parseDataObjectName(key);
    assert.deepEqual(
      parsed && { partition: parsed.partition, start: parsed.start, end: parsed.end },
      { partition: RANGE.partition, start: RANGE.start, end: RANGE.end },
      f.key,
    );
    const rel = parsed!.folder.slice(root.length);
    if (f.partitionBy.kind === 'none') {
      assert.equal(timeUnitOfFolder(rel, 'hour'), null);
      assert.equal(timeUnitOfFolder(rel, 'day'), null);
    } else {
      const g = f.partitionBy.granularity;
      const len = g === 'hour' ? 3_600_000 : 86_400_000;
      assert.equal(timeUnitOfFolder(rel, g), Math.floor(T / len) * len, rel);
      // Another granularity's folders are not this one's (a change of partitionBy).
      assert.equal(timeUnitOfFolder(rel, g === 'hour' ? 'day' : 'hour'), null, rel);
    }
  }
});

test('a key is the same on every build (retries) and differs per field value and range', () => {
  const s = spec(HOUR, '{dt=YYYY-MM-DD}/{hr=HH}/{field:tenant}/{topic}-{partition}-{start}-{end}');
  assert.equal(keyOf(s, { tenant: 'a' }), keyOf(s, { tenant: 'a' }));
  assert.notEqual(keyOf(s, { tenant: 'a' }), keyOf(s, { tenant: 'b' }));
});

test('markers of every time style parse back to their folder and span', () => {
  for (const style of ['hive-dt-hr', 'hive-ymdh', 'plain'] as const) {
    for (const g of ['hour', 'day'] as Granularity[]) {
      const folder = timeFolder(g, T, style);
      const key = successMarkerKey('lake/{topic.0}', RANGE.topic, folder);
      assert.deepEqual(parseSuccessMarkerKey(key), { root: 'lake/sales/sales.orders-v1/', folder }, key);
      assert.equal(timeFolderStart(folder, g), timeUnitOfFolder(folder, g));
      assert.notEqual(timeFolderStart(folder, g), null);
    }
  }
  assert.equal(timeFolderStart('2026/02/30/', 'day'), null);
  assert.equal(timeFolderStart('year=2026/month=11/day=25/hour=24/', 'hour'), null);
  assert.equal(parseSuccessMarkerKey('lake/t/2026/11/_SUCCESS'), null);
});

test('field values are escaped for S3 and Hive; missing and odd ones go to the fallback folder, counted', () => {
  assert.equal(escapeFieldValue('acme'), 'acme');
  assert.equal(escapeFieldValue('a/b=c'), 'a%2Fb%3Dc');
  assert.equal(escapeFieldValue('..'), '%2E.');
  assert.equal(escapeFieldValue('ü'), '%C3%BC');
  assert.equal(escapeFieldValue(42), '42');
  assert.equal(escapeFieldValue(true), 'true');
  assert.equal(escapeFieldValue(FIELD_FALLBACK), '%5F_null__', 'a value cannot pose as the fallback');
  for (const odd of [undefined, null, '', {}, [], Number.NaN, 'x'.repeat(129)]) {
    assert.equal(escapeFieldValue(odd), null, String(odd));
  }
  const folders = new FieldFolders(keyLayoutOf(spec(NONE, '{field:tenant}/{partition}-{start}-{end}')));
  assert.equal(folders.folderOf({ tenant: 'x' }), 'tenant=x/');
  assert.equal(folders.folderOf({}), 'tenant=__null__/');
  assert.equal(folders.folderOf(undefined), 'tenant=__null__/');
  assert.equal(folders.fallbacks, 2);
});

test('bad templates are refused naming the token', () => {
  const refused: Array<[PartitionBy, string, RegExp]> = [
    [HOUR, '{dt=YYYY-MM-DD}/{hr=HH}/{topic}-{start}-{end}', /^\{partition\}: the file name must keep/],
    [HOUR, '{dt=YYYY-MM-DD}/{hr=HH}/{topic}-{partition}-{start}', /^\{end\}: the file name must keep/],
    [HOUR, '{dt=YYYY-MM-DD}/{hr=HH}/{start}-{end}-{partition}', /must keep \{partition\}-\{start\}-\{end\}/],
    [
      HOUR,
      '{dt=YYYY-MM-DD}/{hr=HH}/{tenant}-{partition}-{start}-{end}',
      /^\{tenant\}: unknown token in the file name/,
    ],
    [HOUR, '{dt=YYYY-MM-DD}/{minute=mm}/{partition}-{start}-{end}', /^\{minute=mm\}: unknown token/],
    [HOUR, '{dt=YYYY-MM-DD}/{hour=HH}/{partition}-{start}-{end}', /two time folder styles/],
    [
      HOUR,
      '{dt=YYYY-MM-DD}/{partition}-{start}-{end}',
      /granularity "hour" in this style needs exactly \{dt=YYYY-MM-DD\}\/\{hr=HH\}/,
    ],
    [DAY, '{YYYY}/{MM}/{DD}/{HH}/{partition}-{start}-{end}', /granularity "day" .*\(no hour folder\)/],
    [HOUR, '{field:tenant}/{partition}-{start}-{end}', /needs time folders first/],
    [
      NONE,
      '{dt=YYYY-MM-DD}/{partition}-{start}-{end}',
      /^\{dt=YYYY-MM-DD\}: time folders need partitionBy kind/,
    ],
    [
      HOUR,
      '{field:tenant}/{dt=YYYY-MM-DD}/{hr=HH}/{partition}-{start}-{end}',
      /time folders must come before field folders/,
    ],
    [NONE, 'raw/{partition}-{start}-{end}', /^raw: each folder must be one token/],
    [NONE, '{field:a}/{field:b}/{field:c}/{field:d}/{partition}-{start}-{end}', /at most 3 field folders/],
    [NONE, '{field:hr}/{partition}-{start}-{end}', /reads as a time folder/],
    [NONE, '{field:bad path}/{partition}-{start}-{end}', /dotted path/],
    [NONE, '{topic}{partition}-{start}-{end}', /must not follow a digit or \{topic\}/],
    [NONE, 'v2{partition}-{start}-{end}', /must not follow a digit/],
    [NONE, '{partition}-{start}-{end}7', /must not be followed by a digit/],
    [NONE, '_{partition}-{start}-{end}', /must not start with "_"/],
    [NONE, '{partition}-{start}-{end} x', /may hold only letters/],
  ];
  for (const [partitionBy, template, want] of refused) {
    const got = parseKeyTemplate(template, partitionBy);
    assert.ok('message' in got, `${template} was accepted`);
    assert.match(got.message, want, template);
    const problems = topicConfigProblems({ topic: 't', partitionBy, keyTemplate: template });
    assert.deepEqual(
      problems.map((p) => p.path),
      ['keyTemplate'],
    );
  }
});

test('a prefix takes the topic name parts split on "."; registration refuses parts the name lacks', () => {
  assert.equal(topicPrefix('lake/{topic.0}/{topic.1}', 'sales.orders.v1'), 'lake/sales/orders');
  assert.equal(topicRoot('{topic.1}', 'sales.orders'), 'orders/sales.orders/');
  assert.equal(prefixProblem('lake/{topic.0}/{topic.1}', 'sales.orders'), null);
  assert.match(
    prefixProblem('lake/{topic.2}', 'sales.orders') ?? '',
    /^\{topic\.2\}: topic "sales.orders" has 2 parts/,
  );
  assert.match(
    prefixProblem('lake/{topic.0}', '_internal.x') ?? '',
    /becomes "lake\/_internal", which segment/,
  );
  assert.match(prefixProblem('lake/{topic.0}', '.x') ?? '', /empty segment/);
  assert.match(prefixProblem('lake/{tenant}') ?? '', /only in a \{topic.N\} token/);
  assert.deepEqual(
    topicConfigProblems({ topic: 'flat', destination: { bucket: 'bucket', prefix: '{topic.1}' } }).map(
      (p) => p.path,
    ),
    ['destination.prefix'],
  );
  assert.throws(() => topicRoot('{topic.1}', 'flat'), /SLUICE_ERR|has 1 parts/);
});
