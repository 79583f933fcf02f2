/**
 * Compression as a Transform stream: gzip, zstd (Node 24's `node:zlib`) or none, at the
 * range's level (`compressionLevel` of its OutputSpec; absent: gzip 6, zstd 3). zlib's
 * streams compress on libuv's threadpool, off the thread that reads and encodes.
 * Output must be the same bytes for the same input on every retry (invariant 3): the level is
 * snapshotted with the range, gzip's header carries no time or name here, zstd runs
 * single-threaded, and callers write in fixed-size chunks (see range-writer.ts) so that not
 * even chunking can differ.
 *
 * Each stream hands out its output in buffers of {@link COMPRESSED_CHUNK_BYTES}, not zlib's
 * 16 KiB: a 16 KiB buffer fills several times per 1 MiB written, and every buffer filled is
 * another round trip to the threadpool and another callback. The bytes are the same whatever
 * the buffer's size (compressor.test.ts holds them to zlib's default), so objects a previous
 * version began are finished with the same bytes; the CPU is not (bench/README.md, item 11).
 */
import { PassThrough, type Transform } from 'node:stream';
import zlib from 'node:zlib';
import { COMPRESSION_LEVELS, type Compression } from '@sluice/shared';

/** Output buffer of a compression stream: room for several 1 MiB writes' output at the usual levels. */
export const COMPRESSED_CHUNK_BYTES = 1024 * 1024;

export function createCompressor(compression: Compression, compressionLevel?: number): Transform {
  switch (compression) {
    case 'gzip':
      return zlib.createGzip({
        level: compressionLevel ?? COMPRESSION_LEVELS.gzip.default,
        chunkSize: COMPRESSED_CHUNK_BYTES,
      });
    case 'zstd':
      return zlib.createZstdCompress({
        chunkSize: COMPRESSED_CHUNK_BYTES,
        params: {
          [zlib.constants.ZSTD_c_compressionLevel]: compressionLevel ?? COMPRESSION_LEVELS.zstd.default,
          // Multithreaded zstd may cut its jobs differently between runs: keep it to one thread.
          [zlib.constants.ZSTD_c_nbWorkers]: 0,
        },
      });
    case 'none':
      return new PassThrough();
    default:
      throw new RangeError(`unknown compression "${String(compression)}"`);
  }
}
