/** Pure: which records of a read_committed Fetch answer belong to a range. No broker. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { committedRecords, type WireBatch } from '../../src/kafka/committed-records.ts';

const TX = 0x10;
const CONTROL = 0x20;
const LOG_APPEND_TIME = 0x08;

function batch(
  firstOffset: number,
  values: string[],
  opts: { producerId?: number; attributes?: number; firstTimestamp?: number; maxTimestamp?: number } = {},
): WireBatch {
  return {
    firstOffset: BigInt(firstOffset),
    lastOffsetDelta: values.length - 1,
    attributes: opts.attributes ?? 0,
    firstTimestamp: BigInt(opts.firstTimestamp ?? 1000),
    maxTimestamp: BigInt(opts.maxTimestamp ?? 1000 + values.length - 1),
    producerId: BigInt(opts.producerId ?? -1),
    records: values.map((v, i) => ({
      offsetDelta: i,
      timestampDelta: BigInt(i),
      key: null,
      value: Buffer.from(v),
      headers: [],
    })),
  };
}

/** A control batch of one marker: type 0 ABORT, 1 COMMIT. */
function marker(offset: number, producerId: number, type: 0 | 1): WireBatch {
  const key = Buffer.alloc(4);
  key.writeInt16BE(0, 0);
  key.writeInt16BE(type, 2);
  return {
    ...batch(offset, ['']),
    attributes: TX | CONTROL,
    producerId: BigInt(producerId),
    records: [{ offsetDelta: 0, timestampDelta: 0n, key, value: Buffer.alloc(6), headers: [] }],
  };
}

const vals = (r: ReturnType<typeof committedRecords>) => r.records.map((x) => `${x.offset}:${x.value}`);

test('clips a batch that starts before the position and one that runs past end', () => {
  const r = committedRecords([batch(0, ['a', 'b', 'c', 'd']), batch(4, ['e', 'f', 'g'])], null, 2n, 6n);
  assert.deepEqual(vals(r), ['2:c', '3:d', '4:e', '5:f']);
  assert.equal(r.next, 6n);
});

test('a batch at or past end ends the range: the offsets before it are missing', () => {
  const r = committedRecords([batch(0, ['a']), batch(9, ['z'])], null, 0n, 5n);
  assert.deepEqual(vals(r), ['0:a']);
  assert.equal(r.next, 5n);
});

test('a gap between batches (compaction) moves the position past the later batch', () => {
  const r = committedRecords([batch(0, ['a']), batch(7, ['h'])], null, 0n, 20n);
  assert.deepEqual(vals(r), ['0:a', '7:h']);
  assert.equal(r.next, 8n);
});

test('no batches: the position stays where it was', () => {
  assert.deepEqual(committedRecords([], [], 3n, 9n), { records: [], next: 3n });
});

test('aborted transactions are dropped, committed ones and plain batches kept, control batches skipped', () => {
  const batches = [
    batch(0, ['p0']), // plain
    batch(1, ['a0', 'a1'], { producerId: 7, attributes: TX }), // aborted
    batch(3, ['c0'], { producerId: 8, attributes: TX }), // committed, interleaved
    marker(4, 7, 0),
    marker(5, 8, 1),
    batch(6, ['a2'], { producerId: 7, attributes: TX }), // 7 aborts again
    marker(7, 7, 0),
    batch(8, ['c1'], { producerId: 7, attributes: TX }), // then commits
    marker(9, 7, 1),
  ];
  const aborted = [
    { producerId: 7n, firstOffset: 6n }, // listed out of order on purpose
    { producerId: 7n, firstOffset: 1n },
  ];
  const r = committedRecords(batches, aborted, 0n, 10n);
  assert.deepEqual(vals(r), ['0:p0', '3:c0', '8:c1']);
  assert.equal(r.next, 10n);
});

test('an aborted transaction that began before this answer is still dropped (its marker comes later)', () => {
  // Fetch at 5: the broker lists the transaction by its first offset 2, below the position.
  const r = committedRecords(
    [batch(5, ['a3'], { producerId: 4, attributes: TX }), batch(6, ['p'])],
    [{ producerId: 4n, firstOffset: 2n }],
    5n,
    100n,
  );
  assert.deepEqual(vals(r), ['6:p']);
  assert.equal(r.next, 7n);
});

test('a non-transactional batch of a producer with an aborted transaction is kept', () => {
  const r = committedRecords(
    [batch(0, ['idempotent'], { producerId: 3 })],
    [{ producerId: 3n, firstOffset: 0n }],
    0n,
    1n,
  );
  assert.deepEqual(vals(r), ['0:idempotent']);
});

test('timestamps: create time per record, or the batch max timestamp for LogAppendTime topics', () => {
  const create = committedRecords([batch(0, ['a', 'b'], { firstTimestamp: 500 })], null, 0n, 2n);
  assert.deepEqual(
    create.records.map((r) => r.timestamp),
    [500n, 501n],
  );
  const append = committedRecords(
    [batch(0, ['a', 'b'], { attributes: LOG_APPEND_TIME, firstTimestamp: 1, maxTimestamp: 9000 })],
    null,
    0n,
    2n,
  );
  assert.deepEqual(
    append.records.map((r) => r.timestamp),
    [9000n, 9000n],
  );
});

test('header keys are never null, values may be; order and repeats are kept', () => {
  const b = batch(0, ['v']);
  (b.records[0] as WireBatch['records'][number]).headers = [
    [Buffer.from('h'), Buffer.from('1')],
    [null, null],
    [Buffer.from('h'), Buffer.from('2')],
  ];
  const [rec] = committedRecords([b], null, 0n, 1n).records;
  assert.deepEqual(
    rec?.headers.map(([k, v]) => [k.toString(), v?.toString() ?? null]),
    [
      ['h', '1'],
      ['', null],
      ['h', '2'],
    ],
  );
});
