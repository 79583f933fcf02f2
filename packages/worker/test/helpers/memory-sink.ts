/**
 * An in-memory object sink: the range writer's tests read back the bytes of each object it
 * wrote (Avro containers, Parquet files, rejected-records objects) without S3.
 */
import { Writable } from 'node:stream';
import type { ObjectSink, StoredObject } from '../../src/object-writer.ts';

/** A sink for `key` that puts the object's bytes into `store` when it ends. */
export function memorySink(key: string, store: Map<string, Buffer>): ObjectSink {
  const chunks: Buffer[] = [];
  let done!: (o: StoredObject) => void;
  const result = new Promise<StoredObject>((res) => {
    done = res;
  });
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      chunks.push(chunk);
      cb();
    },
    final(cb) {
      const bytes = Buffer.concat(chunks);
      store.set(key, bytes);
      done({ key, bytes: bytes.length, sha256: '', parts: 0 });
      cb();
    },
  });
  return Object.assign(sink, { key, result });
}
