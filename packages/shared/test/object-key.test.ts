/**
 * The key grammar of object-key.ts, each builder against its parser: the master reads back
 * (audit, finalizer) exactly the names the worker and the finalizer write, and nothing else.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type Compression,
  commitRecordKey,
  configObjectKey,
  dataObjectKey,
  type Format,
  type Granularity,
  parseCommitRecordKey,
  parseConfigObjectKey,
  parseDataObjectName,
  parseFileExtension,
  parseRejectedObjectKey,
  parseSuccessMarkerKey,
  rejectedObjectKey,
  successMarkerKey,
  timeFolder,
  timeFolderStart,
  topicRoot,
} from '@sluice/shared';
import { fileExtension } from '../src/object-key.ts';

const RANGES = [
  { topic: 'web.logs', partition: 3, start: 100n, end: 2000n },
  { topic: 'a-b_c', partition: 4_294_967_295, start: 0n, end: 1n },
  { topic: 'x', partition: 0, start: 2n ** 63n - 2n, end: 2n ** 63n - 1n },
];
const PREFIXES = ['', 'raw', 'raw/kafka', 'dt=2026-01-01'];

test('a commit record key parses back to its range and topic folder', () => {
  for (const prefix of PREFIXES) {
    for (const r of RANGES) {
      const key = commitRecordKey(prefix, r);
      assert.deepEqual(parseCommitRecordKey(key), {
        root: topicRoot(prefix, r.topic),
        partition: r.partition,
        start: r.start,
        end: r.end,
      });
    }
  }
  for (const notOne of [
    'raw/t/_sluice/commits/partition=0/1-2.json',
    `raw/t/_sluice/commits/${'0'.repeat(20)}-${'0'.repeat(19)}1.json`,
    `raw/t/_sluice/commits/partition=0/${'0'.repeat(20)}-${'0'.repeat(19)}1.json.tmp`,
    `raw/t/commits/partition=0/${'0'.repeat(20)}-${'0'.repeat(19)}1.json`,
  ]) {
    assert.equal(parseCommitRecordKey(notOne), null, notOne);
  }
});

test('a _SUCCESS marker key parses back to its topic folder and time folder', () => {
  const times = [0, Date.UTC(2026, 10, 25, 8), Date.UTC(9999, 11, 31, 23)];
  for (const prefix of PREFIXES) {
    for (const g of ['hour', 'day'] as Granularity[]) {
      for (const t of times) {
        const folder = timeFolder(g, t);
        const key = successMarkerKey(prefix, 'clicks', folder);
        assert.ok(key.endsWith(`${folder}_SUCCESS`), key);
        const parsed = parseSuccessMarkerKey(key);
        assert.deepEqual(parsed, { root: topicRoot(prefix, 'clicks'), folder });
        assert.equal(timeFolderStart(parsed!.folder, g), Math.floor(t / unit(g)) * unit(g));
      }
    }
  }
  for (const notOne of [
    'raw/t/_SUCCESS',
    'raw/t/dt=2026-01-01/hr=1/_SUCCESS',
    'raw/t/dt=2026-01-01/_SUCCESS.json',
  ]) {
    assert.equal(parseSuccessMarkerKey(notOne), null, notOne);
  }
});

test('time folders name their span', () => {
  for (const g of ['hour', 'day'] as Granularity[]) {
    for (const t of [0, Date.UTC(2026, 1, 28, 23), Date.UTC(2024, 1, 29, 0)]) {
      assert.equal(timeFolder(g, timeFolderStart(timeFolder(g, t), g)!), timeFolder(g, t));
    }
  }
  assert.equal(timeFolderStart('dt=2026-11-25/hr=08/', 'day'), null);
  assert.equal(timeFolderStart('dt=2026-02-29/', 'day'), null);
});

test('a file extension parses back to the format and compression it was made from', () => {
  for (const format of ['jsonl', 'raw'] as Format[]) {
    for (const compression of ['gzip', 'zstd', 'none'] as Compression[]) {
      const ext = fileExtension(format, compression);
      assert.deepEqual(parseFileExtension(`raw/t/t-0-${'0'.repeat(20)}-${'0'.repeat(20)}.${ext}`), {
        format,
        compression,
      });
      const spec = {
        destination: { bucket: 'b', prefix: 'p' },
        format,
        compression,
        partitionBy: { kind: 'none' as const },
        serverSideEncryption: 'none' as const,
        kmsKeyId: '',
        storageClass: 'STANDARD',
      };
      const key = dataObjectKey(spec, RANGES[0]!, '');
      assert.deepEqual(parseFileExtension(key), { format, compression });
      assert.equal(parseDataObjectName(key)?.start, RANGES[0]!.start);
    }
  }
  assert.equal(parseFileExtension('raw/t/t.json'), null);
  assert.equal(parseFileExtension('raw/t/_SUCCESS'), null);
});

test('a Parquet data key ends in .parquet whatever the codec inside, and parses back to its range', () => {
  for (const compression of ['zstd', 'snappy', 'gzip', 'none'] as Compression[]) {
    const spec = {
      destination: { bucket: 'b', prefix: 'p' },
      format: 'parquet' as const,
      compression,
      partitionBy: { kind: 'none' as const },
      serverSideEncryption: 'none' as const,
      kmsKeyId: '',
      storageClass: 'STANDARD',
    };
    const key = dataObjectKey(spec, RANGES[0]!, 'dt=2026-11-25/');
    assert.ok(key.endsWith(`-${'0'.repeat(17)}100-${'0'.repeat(16)}2000.parquet`), key);
    assert.deepEqual(parseFileExtension(key), { format: 'parquet', compression: 'none' });
    assert.equal(parseDataObjectName(key)?.end, RANGES[0]!.end);
    // Registry schemas: the value's and the decoded key's schema ids follow the range.
    const keyed = dataObjectKey(spec, RANGES[0]!, 'dt=2026-11-25/', 21, 7);
    assert.ok(keyed.endsWith(`-${'0'.repeat(16)}2000-s21-k7.parquet`), keyed);
    assert.equal(parseDataObjectName(keyed)?.end, RANGES[0]!.end);
  }
});

test('a rejected-records key parses back to its range and topic folder; a commit record key does not', () => {
  for (const prefix of PREFIXES) {
    for (const r of RANGES) {
      const key = rejectedObjectKey(prefix, r);
      assert.deepEqual(parseRejectedObjectKey(key), {
        root: topicRoot(prefix, r.topic),
        partition: r.partition,
        start: r.start,
        end: r.end,
      });
      assert.equal(parseCommitRecordKey(key), null);
      assert.equal(parseRejectedObjectKey(commitRecordKey(prefix, r)), null);
      assert.equal(parseDataObjectName(key), null);
    }
  }
});

function unit(g: Granularity): number {
  return g === 'hour' ? 3_600_000 : 86_400_000;
}

test('the config object key parses back to its prefix and topic; other keys do not', () => {
  for (const prefix of ['', 'raw', 'raw/kafka']) {
    const key = configObjectKey(prefix, 'orders.v1');
    assert.deepEqual(parseConfigObjectKey(key), {
      root: topicRoot(prefix, 'orders.v1'),
      prefix,
      topic: 'orders.v1',
    });
  }
  assert.equal(parseConfigObjectKey('raw/orders/_sluice/probe/1'), null);
  assert.equal(parseConfigObjectKey('raw/orders/_sluice/commits/partition=0/config.json'), null);
  assert.equal(parseConfigObjectKey('raw/orders/config.json'), null);
});
