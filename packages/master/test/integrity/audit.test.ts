import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type AbandonedRecord,
  abandonedRecordKey,
  type CommitRecord,
  commitRecordKey,
  configObjectKey,
  dataObjectKey,
  type ObjectEntry,
  type OutputSpec,
  probeKey,
  rejectedObjectKey,
  TOPIC_DEFAULTS,
} from '@sluice/shared';
import {
  type AuditInput,
  auditTopic,
  describeFinding,
  type ListedCommit,
} from '../../src/integrity/audit.ts';

const TOPIC = 'clicks';
const PREFIX = 'lake';
const ROOT = `${PREFIX}/${TOPIC}/`;
const SPEC: OutputSpec = {
  destination: { bucket: 'b', prefix: PREFIX },
  format: TOPIC_DEFAULTS.format,
  compression: TOPIC_DEFAULTS.compression,
  partitionBy: { kind: 'kafka-time', granularity: 'hour' },
  serverSideEncryption: 'none',
  kmsKeyId: '',
  storageClass: 'STANDARD',
};

/** A commit record of [start, end) with one object per folder given (10 records each). */
function commit(
  partition: number,
  start: number,
  end: number,
  folders: string[] = ['dt=2026-11-25/hr=08/'],
  gaps: CommitRecord['gaps'] = [],
): ListedCommit {
  const range = { topic: TOPIC, partition, start: BigInt(start), end: BigInt(end) };
  const objects: ObjectEntry[] = folders.map((f, i) => ({
    key: dataObjectKey(SPEC, range, f),
    records: 10,
    bytes: 100 + i,
    rawBytes: 1000,
    sha256: `sha-${partition}-${start}-${i}`,
    firstOffset: String(start),
    lastOffset: String(end - 1),
    minTimestamp: 1,
    maxTimestamp: 2,
  }));
  const record: CommitRecord = {
    v: 1,
    topic: TOPIC,
    topicId: 'id',
    partition,
    start: String(start),
    end: String(end),
    output: SPEC,
    attempt: 1,
    worker: 'w',
    records: objects.length * 10,
    rawBytes: 1000 * objects.length,
    objectBytes: objects.reduce((n, o) => n + o.bytes, 0),
    objects,
    minTimestamp: 1,
    maxTimestamp: 2,
    gaps,
    eventTimeFallbacks: 0,
    tombstones: 0,
    binaryValues: 0,
    completedAt: '2026-11-25T09:00:00Z',
  };
  return { key: commitRecordKey(PREFIX, range), record };
}

/** Every object the commits list, with its recorded size, plus the commit records. */
function objectsOf(commits: ListedCommit[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const c of commits) {
    m.set(c.key, 500);
    for (const o of c.record?.objects ?? []) m.set(o.key, o.bytes);
  }
  return m;
}

function input(commits: ListedCommit[], over: Partial<AuditInput> = {}): AuditInput {
  return {
    topic: TOPIC,
    root: ROOT,
    partitions: [
      { partition: 0, startOffset: 0n, committedOffset: 300n, committedRecords: 30 },
      { partition: 1, startOffset: 50n, committedOffset: 150n, committedRecords: 10 },
    ],
    commits,
    objects: objectsOf(commits),
    complete: true,
    ...over,
  };
}

const clean = () => [commit(0, 0, 100), commit(0, 100, 200), commit(0, 200, 300), commit(1, 50, 150)];

describe('auditTopic', () => {
  test('a complete, exactly tiled topic is clean', () => {
    const r = auditTopic(input(clean()));
    assert.equal(r.ok, true, r.findings.map(describeFinding).join('\n'));
    assert.equal(r.problems, 0);
    assert.deepEqual(
      r.partitions.map((p) => [p.partition, p.from, p.to, p.ranges, p.records, p.objects]),
      [
        [0, '0', '300', 3, 30, 3],
        [1, '50', '150', 1, 10, 1],
      ],
    );
  });

  test('rejected records: counted, their object accounted for; missing or a stray one is found', () => {
    const c = clean();
    const range = { topic: TOPIC, partition: 0, start: 100n, end: 200n };
    const rejected = {
      key: rejectedObjectKey(PREFIX, range),
      records: 3,
      bytes: 77,
      sha256: 'x',
      firstOffset: '150',
      lastOffset: '170',
    };
    c[1] = { ...c[1]!, record: { ...c[1]!.record!, rejected } };
    const objects = objectsOf(c);
    objects.set(rejected.key, 77);
    const r = auditTopic(input(c, { objects }));
    assert.equal(r.ok, true, r.findings.map(describeFinding).join('\n'));
    assert.deepEqual(
      r.partitions.map((p) => p.rejectedRecords),
      [3, 0],
    );

    objects.delete(rejected.key);
    // A rejected-records object no commit record lists, below the committed offset, is extra.
    const stray = rejectedObjectKey(PREFIX, { topic: TOPIC, partition: 0, start: 0n, end: 100n });
    objects.set(stray, 5);
    const bad = auditTopic(input(c, { objects }));
    assert.deepEqual(
      bad.findings.map((f) => [f.kind, 'key' in f ? f.key : '']),
      [
        ['missing-object', rejected.key],
        ['extra-object', stray],
      ],
    );
  });

  test('a range done but not committed yet is checked, and its offsets are no gap', () => {
    const commits = [...clean(), commit(0, 300, 400)];
    const r = auditTopic(input(commits));
    assert.equal(r.ok, true, r.findings.map(describeFinding).join('\n'));
    assert.equal(r.partitions[0]!.ranges, 4);
  });

  test('a missing commit record is a gap of unknown cause', () => {
    const c = clean();
    const [lost] = c.splice(1, 1);
    const objects = objectsOf(clean());
    objects.delete(lost!.key);
    const r = auditTopic(input(c, { objects }));
    const gaps = r.findings.filter((f) => f.kind === 'gap');
    assert.deepEqual(
      gaps.map((g) => [g.partition, g.start, g.end, g.kind === 'gap' && g.cause]),
      [[0, '100', '200', 'unknown']],
    );
    // The orphaned object of that range is extra (its range is below the committed offset).
    assert.deepEqual(
      r.findings.filter((f) => f.kind === 'extra-object').map((f) => f.kind === 'extra-object' && f.key),
      [clean()[1]!.record!.objects[0]!.key],
    );
    assert.equal(r.counts['count-mismatch'], 1);
  });

  test('the start of the partition is known: missing first ranges are a gap, a later start is none', () => {
    const r = auditTopic(
      input(clean(), {
        partitions: [
          { partition: 0, startOffset: 0n, committedOffset: 300n, committedRecords: null },
          { partition: 1, startOffset: 0n, committedOffset: 150n, committedRecords: null },
        ],
      }),
    );
    assert.deepEqual(
      r.findings.map((f) => f.kind === 'gap' && [f.partition, f.start, f.end]),
      [[1, '0', '50']],
    );
    // startFrom latest: the partition began at 50; nothing before it is expected.
    assert.equal(auditTopic(input(clean())).ok, true);
  });

  test('a committed offset beyond the last commit record is a gap', () => {
    const r = auditTopic(
      input(clean(), {
        partitions: [{ partition: 0, startOffset: 0n, committedOffset: 350n, committedRecords: null }],
        window: { partition: 0 },
      }),
    );
    assert.deepEqual(
      r.findings.map((f) => f.kind === 'gap' && [f.start, f.end, f.cause]),
      [['300', '350', 'unknown']],
    );
  });

  test('offsets retention deleted before they were read are gaps of cause retention', () => {
    const c = [
      commit(0, 0, 100, [], [{ start: '0', end: '100', cause: 'retention' }]),
      commit(0, 100, 200),
      commit(0, 200, 300),
    ];
    c[0]!.record!.records = 0;
    const r = auditTopic(
      input(c, {
        partitions: [{ partition: 0, startOffset: 0n, committedOffset: 300n, committedRecords: 20 }],
      }),
    );
    assert.deepEqual(
      r.findings.map((f) => f.kind === 'gap' && [f.start, f.end, f.cause]),
      [['0', '100', 'retention']],
    );
    assert.equal(r.partitions[0]!.retentionGapOffsets, '100');
    assert.equal(r.partitions[0]!.unknownGapOffsets, '0');
  });

  test('overlapping commit records are reported once each', () => {
    const c = [...clean(), commit(0, 150, 250, ['dt=2026-11-25/hr=09/'])];
    const r = auditTopic(input(c));
    const overlaps = r.findings.filter((f) => f.kind === 'overlap');
    assert.equal(overlaps.length, 2);
    assert.deepEqual(
      overlaps.map((o) => o.kind === 'overlap' && [o.start, o.end]),
      [
        ['150', '200'],
        ['200', '250'],
      ],
    );
  });

  test('a deleted object, a truncated one and a hand-made one', () => {
    const c = clean();
    const objects = objectsOf(c);
    const gone = c[0]!.record!.objects[0]!.key;
    const short = c[2]!.record!.objects[0]!.key;
    objects.delete(gone);
    objects.set(short, 3);
    objects.set(`${ROOT}dt=2026-11-25/hr=08/by-hand.json`, 42);
    const r = auditTopic(input(c, { objects }));
    assert.deepEqual(
      r.findings.map((f) => f.kind),
      ['missing-object', 'size-mismatch', 'extra-object'],
    );
    assert.match(describeFinding(r.findings[0]!), /is listed by .* but is not in S3/);
    assert.equal(r.ok, false);
  });

  test('markers and objects of ranges in flight are not extra', () => {
    const objects = objectsOf(clean());
    objects.set(`${ROOT}dt=2026-11-25/hr=08/_SUCCESS`, 120);
    objects.set(`${ROOT}dt=2026-11-25/_SUCCESS`, 120);
    const inflight = dataObjectKey(
      SPEC,
      { topic: TOPIC, partition: 0, start: 300n, end: 400n },
      'dt=2026-11-25/hr=09/',
    );
    objects.set(inflight, 77);
    const r = auditTopic(input(clean(), { objects }));
    assert.equal(r.ok, true, r.findings.map(describeFinding).join('\n'));
    assert.equal(r.markers, 2);
    assert.equal(r.pendingObjects, 1);
    // Under _sluice/ only commit records belong.
    objects.set(`${ROOT}_sluice/commits/partition=0/notes.txt`, 1);
    assert.deepEqual(
      auditTopic(input(clean(), { objects })).findings.map((f) => f.kind),
      ['extra-object'],
    );
  });

  test('a write probe the master did not get to delete is no extra object; a probe of another topic is', () => {
    const objects = objectsOf(clean());
    objects.set(probeKey(PREFIX, TOPIC, '1765000000000-abcdef'), 3);
    const r = auditTopic(input(clean(), { objects }));
    assert.equal(r.ok, true, r.findings.map(describeFinding).join('\n'));
    // Only `_sluice/probe/` is ignored, and only of this topic's folder.
    objects.set(`${ROOT}_sluice/probes/x`, 3);
    objects.set(`${ROOT}other/_sluice/probe/x`, 3);
    assert.deepEqual(
      auditTopic(input(clean(), { objects }))
        .findings.map((f) => f.kind === 'extra-object' && f.key)
        .sort(),
      [`${ROOT}_sluice/probes/x`, `${ROOT}other/_sluice/probe/x`],
    );
  });

  test("the topic's config object is no extra object", () => {
    const objects = objectsOf(clean());
    objects.set(configObjectKey(PREFIX, TOPIC), 900);
    const r = auditTopic(input(clean(), { objects }));
    assert.equal(r.ok, true, r.findings.map(describeFinding).join('\n'));
  });

  test("a topic that moved: its past destination's commit records and objects count with pastRoots", () => {
    // Partition 0's first two ranges were written under `old/` before the destination changed.
    const moved = (c: ListedCommit): ListedCommit => {
      const json = JSON.stringify(c.record).replaceAll(`"${PREFIX}/`, '"old/');
      return { key: c.key.replace(`${PREFIX}/`, 'old/'), record: JSON.parse(json) as CommitRecord };
    };
    const commits = [
      moved(commit(0, 0, 100)),
      moved(commit(0, 100, 200)),
      commit(0, 200, 300),
      commit(1, 50, 150),
    ];
    const r = auditTopic(input(commits, { pastRoots: [`old/${TOPIC}/`] }));
    assert.equal(r.ok, true, r.findings.map(describeFinding).join('\n'));
    assert.equal(r.partitions[0]!.ranges, 3);
    // Without them the old records are no commit records of this topic, and their offsets a gap.
    const without = auditTopic(input(commits));
    assert.equal(without.ok, false);
    assert.ok(without.findings.some((f) => f.kind === 'gap' && f.partition === 0 && f.start === '0'));
  });

  test('a light audit (no full listing) reports no extra objects', () => {
    const r = auditTopic(input(clean(), { complete: false }));
    assert.equal(r.ok, true);
  });

  test('a commit record that contradicts its own name is bad', () => {
    const c = clean();
    c[1]!.record!.end = '201';
    const unreadable: ListedCommit = {
      key: `${ROOT}_sluice/commits/partition=1/${'0'.repeat(17)}150-${'0'.repeat(17)}160.json`,
      record: null,
      error: 'not JSON',
    };
    const r = auditTopic(input([...c, unreadable], { objects: objectsOf(clean()) }));
    assert.deepEqual(
      r.findings.filter((f) => f.kind === 'bad-commit-record').map((f) => describeFinding(f)),
      [`${c[1]!.key}: says [100, 201), its name [100, 200)`, `${unreadable.key}: not JSON`],
    );
  });

  test('deep: checksums, record counts, offsets and stray lines', () => {
    const c = clean();
    const readBack = new Map<string, import('../../src/integrity/audit.ts').ReadBack>();
    for (const x of c) {
      for (const o of x.record!.objects) {
        readBack.set(o.key, {
          sha256: o.sha256,
          records: o.records,
          firstOffset: o.firstOffset,
          lastOffset: o.lastOffset,
          strayLines: 0,
        });
      }
    }
    assert.equal(auditTopic(input(c, { readBack })).ok, true);
    const [a, b, d] = [c[0]!, c[1]!, c[2]!].map((x) => x.record!.objects[0]!);
    readBack.set(a!.key, { ...readBack.get(a!.key)!, sha256: 'other' });
    readBack.set(b!.key, { ...readBack.get(b!.key)!, records: 9, lastOffset: '198', strayLines: 1 });
    readBack.set(d!.key, {
      sha256: '',
      records: null,
      firstOffset: null,
      lastOffset: null,
      strayLines: 0,
      error: 'incorrect header check',
    });
    const r = auditTopic(input(c, { readBack }));
    assert.deepEqual(
      r.findings.map((f) => f.kind),
      ['checksum-mismatch', 'content-mismatch', 'unreadable-object'],
    );
    assert.match(
      describeFinding(r.findings[1]!),
      /9 records, 10 recorded; last offset 198, 199 recorded; 1 lines/,
    );
  });

  test('a window narrows the checks to its partition and offsets', () => {
    const c = clean();
    const objects = objectsOf(c);
    objects.delete(c[0]!.record!.objects[0]!.key); // [0, 100) of partition 0
    objects.set(`${ROOT}random.bin`, 1);
    const r = auditTopic(input(c, { objects, window: { partition: 0, from: 100n, to: 250n } }));
    assert.equal(r.ok, true, r.findings.map(describeFinding).join('\n'));
    assert.deepEqual(
      r.partitions.map((p) => [p.partition, p.from, p.to, p.ranges]),
      [[0, '100', '250', 2]],
    );
    const all = auditTopic(input(c, { objects, window: { partition: 0 } }));
    assert.deepEqual(
      all.findings.map((f) => f.kind),
      ['missing-object'],
    );
  });
  test('offsets a forced DELETE abandoned are a gap of cause abandoned, listed under abandoned; its records and keys are no extra objects', () => {
    const c = clean();
    const [lost] = c.splice(1, 1); // [100, 200) of partition 0 never committed
    const objects = objectsOf(c);
    const leftover = lost!.record!.objects[0]!.key; // uploaded, never listed by a commit record
    objects.set(leftover, 7);
    const record = (
      destination: AbandonedRecord['destination'],
      start: string,
      end: string,
    ): AbandonedRecord => ({
      v: 1,
      topic: TOPIC,
      topicId: 'id',
      destination,
      abandonedAt: '2026-11-25T10:00:00.000Z',
      reason: 'the operator deleted the topic with force=true',
      ranges: [
        { partition: 0, start, end, state: 'failed', attempt: 3, error: 'NoSuchBucket', keys: [leftover] },
      ],
    });
    const here = record({ bucket: 'b', prefix: PREFIX }, '100', '150');
    objects.set(abandonedRecordKey(PREFIX, TOPIC, 'x'), 300);
    // An earlier destination's record is reported, but explains no hole of this one.
    const elsewhere = record({ bucket: 'gone', prefix: PREFIX }, '150', '200');
    const partitions = [{ partition: 0, startOffset: 0n, committedOffset: 300n, committedRecords: 20 }];
    const r = auditTopic(input(c, { objects, partitions, bucket: 'b', abandoned: [here, here, elsewhere] }));
    assert.deepEqual(
      r.findings.map((f) => (f.kind === 'gap' ? [f.kind, f.start, f.end, f.cause] : [f.kind])),
      [
        ['gap', '100', '150', 'abandoned'],
        ['gap', '150', '200', 'unknown'],
      ],
      r.findings.map(describeFinding).join('\n'),
    );
    assert.equal(r.partitions[0]!.abandonedOffsets, '50');
    assert.equal(r.partitions[0]!.unknownGapOffsets, '50');
    assert.deepEqual(
      r.abandoned.map((a) => [a.partition, a.start, a.end, a.destination, a.error]),
      [
        [0, '100', '150', `b/${PREFIX}`, 'NoSuchBucket'],
        [0, '150', '200', `gone/${PREFIX}`, 'NoSuchBucket'],
      ],
      'each abandoned range once, whichever copy it was read from',
    );
  });
});
