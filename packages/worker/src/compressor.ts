/**
 * Compression as a Transform stream: gzip, zstd (Node 24's `node:zlib`) or none, at the
 * range's level (`compressionLevel` of its OutputSpec; absent: gzip 6, zstd 3). zlib's
 * streams compress on libuv's threadpool, off the thread that reads and encodes.
 * Output must be the same bytes for the same input on every retry (invariant 3): the level is
 * snapshotted with the range, gzip's header carries no time or name here, zstd runs
 * single-threaded, and callers write in fixed-size chunks (see range-writer.ts) so that not
 * even chunking can differ.
 */
import { PassThrough, type Transform } from 'node:stream';
import zlib from 'node:zlib';
import { COMPRESSION_LEVELS, type Compression } from '@sluice/shared';

export function createCompressor(compression: Compression, compressionLevel?: number): Transform {
  switch (compression) {
    case 'gzip':
      return zlib.createGzip({ level: compressionLevel ?? COMPRESSION_LEVELS.gzip.default });
    case 'zstd':
      return zlib.createZstdCompress({
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
