/** Pure: bytes appended in pieces come out in chunks of exactly the chunk size. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChunkBuilder } from '../src/chunk-builder.ts';

test('pieces of every size come out as the same bytes in fixed chunks, the last one shorter', () => {
  const b = new ChunkBuilder(64);
  const expected: number[] = [];
  let n = 0;
  for (let i = 0; i < 300; i++) {
    const len = (i * 37) % 150;
    const piece = Buffer.alloc(len, i % 3 === 1 ? 0x20 + (i % 90) : i & 0xff);
    if (i % 3 === 0) b.bytes(piece);
    else if (i % 3 === 1) b.ascii(piece.toString('latin1'));
    else for (const c of piece) b.byte(c);
    expected.push(...piece);
    n += len;
    if (i % 50 === 0) {
      b.bytes(Buffer.from('abcdef'), 2, 5);
      expected.push(0x63, 0x64, 0x65);
      n += 3;
    }
  }
  assert.equal(b.total, n);
  const early = b.take(false);
  assert.ok(early.every((c) => c.length === 64));
  const rest = b.take(true);
  const all = [...early, ...rest];
  assert.ok(all.slice(0, -1).every((c) => c.length === 64));
  assert.ok((all.at(-1)?.length ?? 0) <= 64);
  assert.deepEqual(Buffer.concat(all), Buffer.from(expected));
  assert.equal(b.pending, 0);
});

test('utf8 strings across a chunk boundary', () => {
  const b = new ChunkBuilder(16);
  b.utf8('ключ-ключ-ключ-ключ');
  assert.equal(Buffer.concat(b.take(true)).toString('utf8'), 'ключ-ключ-ключ-ключ');
});

test('a chunk taken is never written again', () => {
  const b = new ChunkBuilder(16);
  b.ascii('0123456789');
  const [first] = b.take(true);
  b.ascii('abcdefghij');
  assert.equal(first?.toString(), '0123456789');
});

test('nothing is allocated before the first byte, nor after a take until the next', () => {
  const b = new ChunkBuilder(1024 * 1024);
  assert.deepEqual(b.take(true), []);
  assert.equal(b.pending, 0);
  b.byte(0x41);
  assert.equal(Buffer.concat(b.take(true)).toString(), 'A');
  assert.deepEqual(b.take(true), []);
  b.ascii('BC');
  assert.equal(Buffer.concat(b.take(true)).toString(), 'BC');
  assert.equal(b.total, 3);
});
