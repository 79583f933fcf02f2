import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { gunzipSync, zstdDecompressSync } from 'node:zlib';
import type { Compression } from '@sluice/shared';
import { createCompressor } from '../src/compressor.ts';

const input = Buffer.from(
  Array.from(
    { length: 50_000 },
    (_, i) =>
      `{"i":${i},"h":"${createHash('md5')
        .update(String(i % 313))
        .digest('hex')}"}\n`,
  ).join(''),
);

async function compress(compression: Compression, data: Buffer, chunk: number): Promise<Buffer> {
  const c = createCompressor(compression);
  const out: Buffer[] = [];
  c.on('data', (d: Buffer) => out.push(d));
  const ended = new Promise((resolve, reject) => {
    c.on('end', resolve);
    c.on('error', reject);
  });
  for (let at = 0; at < data.length; at += chunk) {
    if (!c.write(data.subarray(at, at + chunk))) await new Promise((r) => c.once('drain', r));
  }
  c.end();
  await ended;
  return Buffer.concat(out);
}

for (const compression of ['gzip', 'zstd', 'none'] as const) {
  test(`${compression}: the same input gives the same bytes every time`, async () => {
    const a = await compress(compression, input, 128 * 1024);
    const b = await compress(compression, input, 128 * 1024);
    assert.ok(a.equals(b));
    if (compression !== 'none') assert.ok(a.length < input.length / 2, 'compresses');
  });
}

test('gzip round trip', async () => {
  assert.ok(gunzipSync(await compress('gzip', input, 128 * 1024)).equals(input));
});

test('zstd round trip', async () => {
  assert.ok(zstdDecompressSync(await compress('zstd', input, 128 * 1024)).equals(input));
});

test('none passes bytes through', async () => {
  assert.ok((await compress('none', input, 1000)).equals(input));
});

test('empty input still makes a valid stream', async () => {
  assert.equal(gunzipSync(await compress('gzip', Buffer.alloc(0), 1)).length, 0);
  assert.equal(zstdDecompressSync(await compress('zstd', Buffer.alloc(0), 1)).length, 0);
});
