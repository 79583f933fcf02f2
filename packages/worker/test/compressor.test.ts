import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import zlib, { gunzipSync, zstdDecompressSync } from 'node:zlib';
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

/** Codecs and levels whose bytes the tests below pin: the defaults and the levels the benchmark uses. */
const PINNED_LEVELS = [
  ['gzip', 6],
  ['gzip', 5],
  ['zstd', 3],
  ['zstd', 1],
] as const;

async function compress(
  compression: Compression,
  data: Buffer,
  chunk: number,
  level?: number,
): Promise<Buffer> {
  const c = createCompressor(compression, level);
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

test('compressionLevel: absent is the codec default (gzip 6, zstd 3); other levels give other bytes that read back', async () => {
  for (const [compression, dflt, low, high] of [
    ['gzip', 6, 1, 9],
    ['zstd', 3, 1, 19],
  ] as const) {
    const plain = await compress(compression, input, 128 * 1024);
    assert.ok(plain.equals(await compress(compression, input, 128 * 1024, dflt)), `${compression} default`);
    const fast = await compress(compression, input, 128 * 1024, low);
    const small = await compress(compression, input, 128 * 1024, high);
    assert.ok(!fast.equals(plain), `${compression} ${low} differs from ${dflt}`);
    assert.ok(small.length < fast.length, `${compression} ${high} is smaller than ${low}`);
    assert.ok(
      fast.equals(await compress(compression, input, 128 * 1024, low)),
      `${compression} ${low} repeats`,
    );
    const unpack = compression === 'gzip' ? gunzipSync : zstdDecompressSync;
    assert.ok(unpack(fast).equals(input) && unpack(small).equals(input), `${compression} round trips`);
  }
});

test("the bytes are zlib's with its default 16 KiB output buffers: objects begun before the larger buffers finish the same", async () => {
  /** As compress() above, through zlib's own stream with its default output buffer. */
  const older = async (compression: 'gzip' | 'zstd', level: number, chunk: number): Promise<Buffer> => {
    const c =
      compression === 'gzip'
        ? zlib.createGzip({ level })
        : zlib.createZstdCompress({
            params: { [zlib.constants.ZSTD_c_compressionLevel]: level, [zlib.constants.ZSTD_c_nbWorkers]: 0 },
          });
    const out: Buffer[] = [];
    c.on('data', (d: Buffer) => out.push(d));
    const ended = new Promise((resolve) => c.on('end', resolve));
    for (let at = 0; at < input.length; at += chunk) {
      if (!c.write(input.subarray(at, at + chunk))) await new Promise((r) => c.once('drain', r));
    }
    c.end();
    await ended;
    return Buffer.concat(out);
  };
  for (const [compression, level] of PINNED_LEVELS) {
    for (const chunk of [128 * 1024, 7_919]) {
      const now = await compress(compression, input, chunk, level);
      assert.ok(
        now.equals(await older(compression, level, chunk)),
        `${compression} ${level}, writes of ${chunk} B`,
      );
    }
  }
});

test('writes of 1 MiB give the bytes of writes of 128 KiB: objects begun in 128 KiB chunks finish the same', async () => {
  // Long enough to pass zstd 3's 2 MiB window several times over, with repeats far apart.
  const long = Buffer.concat(
    Array.from({ length: 6 }, (_, i) => Buffer.concat([input, Buffer.from(`${i}\n`)])),
  );
  for (const [compression, level] of PINNED_LEVELS) {
    const small = await compress(compression, long, 128 * 1024, level);
    assert.ok(
      small.equals(await compress(compression, long, 1024 * 1024, level)),
      `${compression} ${level}: 1 MiB writes differ from 128 KiB writes`,
    );
  }
});
