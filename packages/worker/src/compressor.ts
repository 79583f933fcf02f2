/**
 * Compression as a Transform stream: gzip (level 6), zstd (level 3, Node 24's `node:zlib`) or
 * none. Output must be the same bytes for the same input on every retry (invariant 3):
 * gzip's header carries no time or name here, zstd runs single-threaded, and callers write
 * in fixed-size chunks (see range-writer.ts) so that not even chunking can differ.
 */
import { PassThrough, type Transform } from 'node:stream';
import zlib from 'node:zlib';
import type { Compression } from '@sluice/shared';

const GZIP_LEVEL = 6;
const ZSTD_LEVEL = 3;

export function createCompressor(compression: Compression): Transform {
  switch (compression) {
    case 'gzip':
      return zlib.createGzip({ level: GZIP_LEVEL });
    case 'zstd':
      return zlib.createZstdCompress({
        params: {
          [zlib.constants.ZSTD_c_compressionLevel]: ZSTD_LEVEL,
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
