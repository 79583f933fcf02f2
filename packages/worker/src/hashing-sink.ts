/**
 * An {@link ObjectSink} that stores nothing and only measures: used to re-read a committed
 * range and compare it with its commit record (`SLUICE_VERIFY_ON_RETRY`).
 */
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import type { ObjectSink, StoredObject } from './object-writer.ts';

export function createHashingSink(key: string): ObjectSink {
  const hash = createHash('sha256');
  let bytes = 0;
  let resolve!: (o: StoredObject) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<StoredObject>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {});
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      bytes += chunk.length;
      cb();
    },
    final(cb) {
      resolve({ key, bytes, sha256: hash.digest('hex'), parts: 0 });
      cb();
    },
    destroy(err, cb) {
      reject(err ?? new Error(`measuring ${key} was closed before it finished`));
      cb(err);
    },
  });
  return Object.assign(sink, { key, result: promise });
}
