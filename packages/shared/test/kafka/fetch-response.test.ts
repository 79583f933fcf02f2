/**
 * Pure: our Fetch answer parser reads what @platformatic/kafka's own parser reads, and
 * decodes only the records a range asks for. Answers are built from the library's batch
 * writer; no broker.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRecordsBatch, fetchV17, Reader } from '@platformatic/kafka';
import { fetchV17Answer } from '@sluice/test-kit';
import type { FetchedRecord } from '../../src/kafka/committed-records.ts';
import { EncodedBatch, type FetchAnswer, parseFetchAnswer } from '../../src/kafka/fetch-response.ts';

/** One record batch starting at `base`. */
function batch(
  base: number,
  values: Array<string | null>,
  compression: 'none' | 'gzip' | 'zstd' = 'none',
): Buffer {
  const b = createRecordsBatch(
    values.map((v, i) => ({
      topic: 't',
      key: i % 2 === 0 ? Buffer.from(`k${i}`) : undefined,
      value: v === null ? (null as unknown as Buffer) : Buffer.from(v),
      headers: i % 3 === 0 ? new Map([[Buffer.from('h'), Buffer.from(`v${i}`)]]) : undefined,
      timestamp: 1_764_057_600_000n + BigInt(i * 7),
    })),
    { compression },
  ).buffer;
  b.writeBigInt64BE(BigInt(base), 0);
  return b;
}

/** A Fetch v17 answer body of partition 3 (high watermark 100, last stable 90). */
const answer = (records: Buffer | null, aborted: Array<[bigint, bigint]> | null = null) =>
  fetchV17Answer(records, { partition: 3, highWatermark: 100n, lastStableOffset: 90n, aborted });

function all(a: FetchAnswer, from = 0n, end = 1n << 62n): FetchedRecord[] {
  const out: FetchedRecord[] = [];
  for (const b of a.responses[0]?.partitions[0]?.records ?? []) b.readRecords(from, end, false, out);
  return out;
}

const show = (r: FetchedRecord) =>
  `${r.offset}@${r.timestamp}:${r.key?.toString() ?? '-'}=${r.value?.toString() ?? 'null'}[${r.headers.map(([k, v]) => `${k}:${v}`).join(',')}]`;

test('reads what the library reads: partition fields, batches, records (plain, gzip, zstd)', () => {
  const values = ['a', 'bb', null, '', 'ccc', '{"x":1}'];
  const records = Buffer.concat([batch(10, values), batch(16, values, 'gzip'), batch(22, values, 'zstd')]);
  const body = answer(records, [[7n, 12n]]);
  const ours = parseFetchAnswer(body, 17);
  const theirs = fetchV17.parseResponse(0, 1, 17, Reader.from(body)) as unknown as {
    responses: Array<{
      partitions: Array<{
        highWatermark: bigint;
        lastStableOffset: bigint;
        records: Array<{
          firstOffset: bigint;
          records: Array<{
            offsetDelta: number;
            timestampDelta: bigint;
            key: Buffer | null;
            value: Buffer | null;
            headers: Array<[Buffer, Buffer]>;
          }>;
          firstTimestamp: bigint;
        }>;
      }>;
    }>;
  };
  const p = ours.responses[0]?.partitions[0];
  const q = theirs.responses[0]?.partitions[0];
  assert.ok(p && q);
  assert.equal(p.partitionIndex, 3);
  assert.equal(p.highWatermark, q.highWatermark);
  assert.equal(p.lastStableOffset, q.lastStableOffset);
  assert.deepEqual(p.abortedTransactions, [{ producerId: 7n, firstOffset: 12n }]);
  const expected = q.records.flatMap((b) =>
    b.records.map((r) =>
      show({
        offset: b.firstOffset + BigInt(r.offsetDelta),
        timestamp: b.firstTimestamp + r.timestampDelta,
        key: r.key,
        value: r.value,
        headers: r.headers.map(([k, v]) => [k, v]),
      }),
    ),
  );
  assert.equal(expected.length, 18);
  assert.deepEqual(all(ours).map(show), expected);
});

test('decodes only [from, end): records before and after are skipped', () => {
  const body = answer(Buffer.concat([batch(0, ['a', 'b', 'c', 'd']), batch(4, ['e', 'f'], 'zstd')]));
  const got = all(parseFetchAnswer(body, 17), 2n, 5n).map((r) => `${r.offset}:${r.value}`);
  assert.deepEqual(got, ['2:c', '3:d', '4:e']);
});

test('a batch cut off at the end of the answer is left out; no records is null', () => {
  const whole = batch(0, ['a', 'b']);
  const cut = batch(2, ['c', 'd']).subarray(0, 30);
  const a = parseFetchAnswer(answer(Buffer.concat([whole, cut])), 17);
  assert.equal(a.responses[0]?.partitions[0]?.records?.length, 1);
  assert.equal(parseFetchAnswer(answer(null), 17).responses[0]?.partitions[0]?.records, null);
});

test('LogAppendTime: the batch max timestamp; offsets beyond 2^53 stay exact', () => {
  const b = batch(0, ['a', 'b']);
  b.writeBigInt64BE(9_007_199_254_740_990n, 0);
  const out: FetchedRecord[] = [];
  const [parsed] = parseFetchAnswer(answer(b), 17).responses[0]?.partitions[0]?.records ?? [];
  assert.ok(parsed instanceof EncodedBatch);
  parsed.readRecords(0n, 1n << 62n, true, out);
  assert.deepEqual(
    out.map((r) => [r.offset, r.timestamp]),
    [
      [9_007_199_254_740_990n, parsed.maxTimestamp],
      [9_007_199_254_740_991n, parsed.maxTimestamp],
    ],
  );
});

test('a malformed answer fails loudly instead of yielding wrong records', () => {
  const body = answer(batch(0, ['a']));
  assert.throws(() => parseFetchAnswer(body.subarray(0, 20), 17), /malformed Fetch answer/);
  assert.throws(() => parseFetchAnswer(body, 11), /version 11/);
});
