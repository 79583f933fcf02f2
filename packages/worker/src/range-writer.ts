/**
 * The data path of one range: records → time bucket (and field folders, when the key template
 * has them) → encoder → compressor → object sink, one open object per folder, in offset order
 * within each object.
 *
 * Bytes reach each compressor in chunks of exactly {@link CHUNK_BYTES} (the last one
 * shorter): gzip and zstd output depends on how input is split into writes, and fetch sizes
 * differ between retries, so fixed chunking is what makes the stored bytes the same on every
 * retry (invariant 3). The encoder writes each line straight into those chunks
 * (chunk-builder.ts). The writer knows nothing of ZooKeeper or S3: new objects are opened
 * through one narrow {@link ObjectTarget}, which for an upload records their keys before it
 * opens their sinks (invariant 4), so no byte goes anywhere before its key is recorded.
 * Writes wait for the compressor and the upload (backpressure), so memory stays bounded by the
 * part buffers.
 *
 * `avro`: values are decoded with their writer schemas from the registry (registry-values.ts)
 * and copied into Avro container files (avro-container.ts), one object per bucket folder and
 * writer schema id; the container compresses inside, so the object's stream is not compressed
 * again. Tombstones have no record to write: they are counted (`tombstones`), not written.
 */

import type { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  dataObjectKey,
  ErrorCodes,
  FieldFolders,
  keyLayoutOf,
  type ObjectEntry,
  type OutputSpec,
  type SchemaRegistryClient,
  SluiceError,
} from '@sluice/shared';
import { AvroContainerWriter } from './avro-container.ts';
import { ChunkBuilder } from './chunk-builder.ts';
import { createCompressor } from './compressor.ts';
import type { ObjectSink, StoredObject } from './object-writer.ts';
import { type EncodableRecord, RecordEncoder } from './record-encoder.ts';
import { type RegistryValue, RegistryValueDecoder } from './registry-values.ts';
import { TimeBucketer } from './time-bucket.ts';

export const CHUNK_BYTES = 128 * 1024;
/** Full chunks an open object may hold before they go to its compressor (1 MiB). */
const DRAIN_CHUNKS = 8;

/** Where a range writer's objects go: the one thing the writer asks of its caller. */
export interface ObjectTarget {
  /**
   * Opens the sinks of objects the writer is about to start, one per key and in the order of
   * `keys`, before any of their bytes are written. An upload records the keys first.
   */
  openObjects(keys: readonly string[]): Promise<ObjectSink[]>;
}

export interface RangeWriterOptions {
  spec: OutputSpec;
  range: { topic: string; partition: number; start: bigint; end: bigint };
  target: ObjectTarget;
  /** Told of the first sink failure at once, so the caller can stop reading. */
  onFailure?: (err: unknown) => void;
  /** Where `schema: { source: "registry" }` topics get writer schemas (SLUICE_SCHEMA_REGISTRY_URL). */
  schemas?: SchemaRegistryClient;
  /**
   * A record that cannot be written in the topic's format (not in the wire format, a schema id
   * the registry does not have). Without it the range fails with SLUICE_ERR_SCHEMA_REJECTED
   * naming the offset and the reason.
   */
  onReject?: (rec: EncodableRecord, reason: string) => void | Promise<void>;
}

/** One object's share of the range while it is being written. */
class BucketObject {
  readonly key: string;
  readonly folder: string;
  records = 0;
  rawBytes = 0;
  firstOffset = -1n;
  lastOffset = -1n;
  minTimestamp = Number.POSITIVE_INFINITY;
  maxTimestamp = Number.NEGATIVE_INFINITY;

  /** Encoded lines, in chunks of exactly CHUNK_BYTES. */
  readonly out = new ChunkBuilder(CHUNK_BYTES);
  /** `avro`: the container its records go into (its bytes into {@link out}). */
  avro: AvroContainerWriter | null = null;

  compressor: Transform | null = null;
  sink: ObjectSink | null = null;
  done: Promise<void> | null = null;
  failure: unknown;

  /** What the writer finds it by: the folder, and for `avro` the schema id too. */
  readonly id: string;

  constructor(folder: string, key: string, id: string) {
    this.folder = folder;
    this.key = key;
    this.id = id;
  }

  /** Notes a record whose line was just appended to {@link out}. */
  noteRecord(offset: bigint, timestamp: number): void {
    if (this.records === 0) this.firstOffset = offset;
    this.records++;
    this.lastOffset = offset;
    if (timestamp < this.minTimestamp) this.minTimestamp = timestamp;
    if (timestamp > this.maxTimestamp) this.maxTimestamp = timestamp;
  }

  /** Whole chunks ready to write; with `all`, the remainder too. */
  takeChunks(all: boolean): Buffer[] {
    const out = this.out.take(all);
    if (this.avro === null) for (const c of out) this.rawBytes += c.length;
    else this.rawBytes = this.avro.rawBytes;
    return out;
  }
}

export interface RangeWriterStats {
  records: number;
  rawBytes: number;
  tombstones: number;
  binaryValues: number;
  eventTimeFallbacks: number;
  /** Field values of the key template's field folders that went to `__null__`; null without field folders. */
  fieldFallbacks: number | null;
  minTimestamp: number | null;
  maxTimestamp: number | null;
}

export class RangeWriter {
  readonly #opts: RangeWriterOptions;
  readonly #encoder: RecordEncoder;
  readonly #bucketer: TimeBucketer;
  readonly #fields: FieldFolders;
  readonly #buckets = new Map<string, BucketObject>();
  readonly #values: RegistryValueDecoder | null;
  #records = 0;
  #failure: unknown;
  #closed = false;

  constructor(opts: RangeWriterOptions) {
    this.#opts = opts;
    const layout = keyLayoutOf(opts.spec);
    this.#bucketer = new TimeBucketer(opts.spec.partitionBy, layout.time);
    this.#fields = new FieldFolders(layout);
    this.#encoder = new RecordEncoder({
      format: opts.spec.format,
      topic: opts.range.topic,
      partition: opts.range.partition,
      parseValues: this.#bucketer.needsValue || !this.#fields.empty,
    });
    this.#values = null;
    if (opts.spec.format === 'avro') {
      if (opts.schemas === undefined) {
        throw new SluiceError(
          ErrorCodes.SCHEMA_REGISTRY,
          `topic "${opts.range.topic}" writes Avro with writer schemas from a Schema Registry, and this worker has none: set SLUICE_SCHEMA_REGISTRY_URL on the workers`,
          { retryable: true },
        );
      }
      this.#values = new RegistryValueDecoder(opts.schemas, { avroOnly: true });
    }
  }

  /** The registry value of an `avro` record; null for a tombstone or a rejected record (handled here). */
  async #registryValue(rec: EncodableRecord): Promise<RegistryValue | null> {
    if (rec.value === null) {
      this.#encoder.tombstones++;
      return null;
    }
    const values = this.#values!;
    const out = values.decodeCached(rec.value) ?? (await values.decode(rec.value));
    if (!('reject' in out)) return out;
    if (this.#opts.onReject) await this.#opts.onReject(rec, out.reject);
    else {
      const { topic, partition } = this.#opts.range;
      throw new SluiceError(
        ErrorCodes.SCHEMA_REJECTED,
        `offset ${rec.offset} of ${topic}-${partition} cannot be written as Avro: ${out.reject}. Sluice keeps no rejected-records objects yet, so the range fails until the record can be read (register its schema) or the topic's format changes`,
      );
    }
    return null;
  }

  /** Encodes and routes a batch of records (in offset order), then writes what is ready. */
  async write(records: readonly EncodableRecord[]): Promise<void> {
    this.#check();
    if (records.length === 0) return;
    const encoder = this.#encoder;
    const bucketer = this.#bucketer;
    let opening: BucketObject[] | null = null;
    let last: BucketObject | null = null;
    const fields = this.#fields.empty ? null : this.#fields;
    const needsValue = bucketer.needsValue || fields !== null;
    for (const rec of records) {
      const ts = Number(rec.timestamp);
      let value: RegistryValue | null = null;
      if (this.#values !== null) {
        // The common case (a known schema, a whole record) costs no await per record.
        const cached = rec.value === null ? undefined : this.#values.decodeCached(rec.value);
        value = cached !== undefined && !('reject' in cached) ? cached : await this.#registryValue(rec);
        if (value === null) continue;
      }
      const parsed = needsValue ? (value !== null ? value.value : encoder.parseValue(rec)) : undefined;
      const time = bucketer.folderOf(ts, parsed);
      const folder = fields === null ? time : time + fields.folderOf(parsed);
      // Avro: one object per folder and writer schema.
      const id = value === null ? folder : `${folder}\0${value.schemaId}`;
      let b: BucketObject | undefined = last !== null && last.id === id ? last : this.#buckets.get(id);
      if (b === undefined) {
        const key = dataObjectKey(this.#opts.spec, this.#opts.range, folder, value?.schemaId);
        b = new BucketObject(folder, key, id);
        if (value !== null) {
          b.avro = new AvroContainerWriter({
            schema: value.schema.schema,
            compression: this.#opts.spec.compression,
            key,
            out: b.out,
          });
        }
        this.#buckets.set(id, b);
        opening ??= [];
        opening.push(b);
      }
      if (value !== null) b.avro!.append(value.payload);
      else encoder.encodeInto(rec, b.out);
      b.noteRecord(rec.offset, ts);
      last = b;
      // Hand over full chunks as they fill, not after the whole batch: what is encoded and not
      // yet written stays under DRAIN_CHUNKS per object, however much a fetch held.
      if (b.compressor !== null && b.out.fullChunks >= DRAIN_CHUNKS) await this.#drain(b, false);
    }
    this.#records += records.length;
    if (opening !== null) {
      const sinks = await this.#opts.target.openObjects(opening.map((b) => b.key));
      opening.forEach((b, i) => {
        this.#open(b, sinks[i]!);
      });
      if (this.#failure !== undefined || this.#closed) {
        // Failed or aborted while the keys were being recorded: no byte goes up. Opened first,
        // so that the pipeline, not the process, meets the error the destroyed sink emits.
        const reason = asError(this.#failure ?? 'range writer is closed');
        for (const b of opening) {
          b.compressor?.destroy(reason);
          b.sink?.destroy(reason);
        }
        this.#check();
      }
    }
    for (const b of this.#buckets.values()) await this.#drain(b, false);
  }

  #open(b: BucketObject, sink: ObjectSink): void {
    // An Avro container compresses inside: its stream goes up as it is.
    const compressor =
      b.avro === null
        ? createCompressor(this.#opts.spec.compression, this.#opts.spec.compressionLevel)
        : createCompressor('none');
    b.compressor = compressor;
    b.sink = sink;
    b.done = pipeline(compressor, sink).then(
      () => {},
      (err) => {
        b.failure = err;
        this.#fail(err);
      },
    );
  }

  #fail(err: unknown): void {
    if (this.#failure !== undefined) return;
    this.#failure = err;
    this.#opts.onFailure?.(err);
  }

  #check(): void {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#closed) throw new Error('range writer is closed');
  }

  #checkFailure(): void {
    if (this.#failure !== undefined) throw this.#failure;
  }

  async #drain(b: BucketObject, all: boolean): Promise<void> {
    const c = b.compressor!;
    for (const chunk of b.takeChunks(all)) {
      if (c.destroyed) {
        this.#checkFailure();
        throw new Error(`compressor of ${b.key} was destroyed`);
      }
      if (!c.write(chunk)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            c.off('drain', done);
            c.off('close', done);
            resolve();
          };
          c.on('drain', done);
          c.on('close', done);
        });
        this.#checkFailure();
      }
    }
  }

  /** Ends every object and waits until all are stored. Objects are returned in key order. */
  async finish(): Promise<ObjectEntry[]> {
    this.#check();
    this.#closed = true;
    const buckets = [...this.#buckets.values()];
    for (const b of buckets) {
      b.avro?.flush();
      await this.#drain(b, true);
      b.compressor!.end();
    }
    await Promise.all(buckets.map((b) => b.done));
    if (this.#failure !== undefined) throw this.#failure;
    const stored = await Promise.all(buckets.map((b) => b.sink!.result));
    const out = buckets.map((b, i) => entryOf(b, stored[i]!));
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** Stops every object (aborting their uploads). */
  abort(reason: unknown): void {
    this.#closed = true;
    this.#failure ??= reason;
    for (const b of this.#buckets.values()) {
      b.compressor?.destroy(asError(reason));
      b.sink?.destroy(asError(reason));
    }
  }

  stats(): RangeWriterStats {
    let rawBytes = 0;
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (const b of this.#buckets.values()) {
      rawBytes += b.rawBytes;
      if (b.minTimestamp < min) min = b.minTimestamp;
      if (b.maxTimestamp > max) max = b.maxTimestamp;
    }
    return {
      records: this.#records,
      rawBytes,
      tombstones: this.#encoder.tombstones,
      binaryValues: this.#encoder.binaryValues,
      eventTimeFallbacks: this.#bucketer.fallbacks,
      fieldFallbacks: this.#fields.empty ? null : this.#fields.fallbacks,
      minTimestamp: this.#records > 0 ? min : null,
      maxTimestamp: this.#records > 0 ? max : null,
    };
  }
}

function entryOf(b: BucketObject, s: StoredObject): ObjectEntry {
  return {
    key: b.key,
    records: b.records,
    bytes: s.bytes,
    rawBytes: b.rawBytes,
    sha256: s.sha256,
    firstOffset: b.firstOffset.toString(),
    lastOffset: b.lastOffset.toString(),
    minTimestamp: b.records > 0 ? b.minTimestamp : null,
    maxTimestamp: b.records > 0 ? b.maxTimestamp : null,
  };
}

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}
