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
 * writer schema id, each record followed by Kafka's fields; the container compresses inside, so
 * the object's stream is not compressed again. A tombstone has no value to write: it goes to the
 * rejected-records object, like a value the registry cannot give a schema for, and a value
 * whose writer schema cannot take Kafka's fields (not a record, or a clashing field name).
 * `parquet`: each bucket's rows gather into row groups (parquet-object.ts) whose bytes go into
 * the same chunks, through no compressor (the codec is inside the file). A record the topic's
 * schema does not take goes to the range's rejected-records object (rejected-records.ts),
 * opened like the others when the range ends.
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
  type RejectedEntry,
  rejectedObjectKey,
  type SchemaRegistryClient,
  SluiceError,
  type TopicSchema,
} from '@sluice/shared';
import type { AvroContainerWriter, AvroFileSchemas } from './avro-container.ts';
import { ChunkBuilder } from './chunk-builder.ts';
import { createCompressor } from './compressor.ts';
import { type FormatLibraries, formatLibraries } from './format-libraries.ts';
import type { ObjectSink, StoredObject } from './object-writer.ts';
import {
  inlineLayoutOf,
  inlineValuesInto,
  KAFKA_COLUMN_COUNT,
  KEY_COLUMN,
  kafkaValuesInto,
  type ParquetLayout,
  parquetRevisionOf,
  RecordRejection,
} from './parquet-columns.ts';
import type { ParquetObject } from './parquet-object.ts';
import { type EncodableRecord, RecordEncoder } from './record-encoder.ts';
import type { RegistryValue, RegistryValueDecoder } from './registry-values.ts';
import { RejectedRecords } from './rejected-records.ts';
import { TimeBucketer } from './time-bucket.ts';

/**
 * 1 MiB: each write is a round trip to libuv's threadpool and a call into zstd or zlib, and
 * zstd compresses whole 128 KiB blocks straight from a large write where it copies a small
 * one through its own buffer first. zstd 3 on the benchmark's events costs ~25 % less CPU in
 * 1 MiB writes than in 128 KiB ones (bench/README.md); the bytes are the same either way
 * (compressor.test.ts), so objects begun by a version that wrote 128 KiB chunks are finished
 * with the same bytes.
 */
export const CHUNK_BYTES = 1024 * 1024;
/** Full chunks an open object may hold before they go to its compressor (1 MiB). */
const DRAIN_CHUNKS = 1;

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
  /** `parquet`: cut a row group at this many bytes of values (SLUICE_PARQUET_ROW_GROUP_BYTES). @defaultValue 16 MiB */
  parquetRowGroupBytes?: number;
}

export const DEFAULT_PARQUET_ROW_GROUP_BYTES = 16 * 1024 * 1024;

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
  /** `parquet` only: the file being written; its bytes go into {@link out}. */
  parquet: ParquetObject | null = null;

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
  /** The range's rejected-records object, once {@link RangeWriter.finish} stored it; else null. */
  rejected: RejectedEntry | null;
}

export class RangeWriter {
  readonly #opts: RangeWriterOptions;
  readonly #encoder: RecordEncoder;
  readonly #bucketer: TimeBucketer;
  readonly #fields: FieldFolders;
  readonly #buckets = new Map<string, BucketObject>();
  /** `avro` and `parquet`: their modules, loaded at the first write (format-libraries.ts). */
  #libraries: FormatLibraries | null = null;
  /** Values (and keys) decoded with the registry's schemas: made with {@link #libraries}. */
  #values: RegistryValueDecoder | null = null;
  #avroSchemas: AvroFileSchemas | null = null;
  /** `parquet` with an inline schema: the one layout of all its files. */
  readonly #inlineLayout: ParquetLayout | null;
  /** `parquet` with `schema: { source: "registry", key: true }`: keys are decoded by the registry too. */
  readonly #decodeKeys: boolean;
  /** `parquet`: the encoding revision of the range's snapshot (parquet-object.ts). */
  readonly #parquetRevision: number;
  /** `parquet`: the row of the record at hand, in its layout's column order (reused). */
  readonly #row: unknown[] = [];
  #records = 0;
  #failure: unknown;
  #closed = false;
  readonly #rejectedOut = new ChunkBuilder(CHUNK_BYTES);
  readonly #rejected = new RejectedRecords(this.#rejectedOut);
  #rejectedEntry: RejectedEntry | null = null;

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
    const { format, schema } = opts.spec;
    if (format === 'avro' || (format === 'parquet' && schema?.source === 'registry')) {
      if (opts.schemas === undefined) {
        throw new SluiceError(
          ErrorCodes.SCHEMA_REGISTRY,
          `topic "${opts.range.topic}" writes ${format === 'avro' ? 'Avro' : 'Parquet'} with writer schemas from a Schema Registry, and this worker has none: set SLUICE_SCHEMA_REGISTRY_URL on the workers`,
          { retryable: true },
        );
      }
    }
    this.#inlineLayout = schema?.source === 'inline' ? inlineLayoutOf(schema) : null;
    this.#decodeKeys = format === 'parquet' && schema?.source === 'registry' && schema.key === true;
    this.#parquetRevision = format === 'parquet' ? parquetRevisionOf(opts.spec.parquetEncoding) : 1;
  }

  /**
   * The registry value of an `avro` (or registry `parquet`) record; null for a record that goes
   * to the range's rejected-records object instead: a tombstone (it has no writer schema, so no
   * file of one schema's records has a place for it), or a value the registry cannot give a
   * schema for. Neither blocks the partition.
   */
  async #registryValue(rec: EncodableRecord): Promise<RegistryValue | null> {
    if (rec.value === null) {
      const file = this.#opts.spec.format === 'avro' ? 'an Avro file' : 'a Parquet file of a registry schema';
      this.#rejected.reject(
        rec,
        `tombstone: ${file} holds values of one writer schema, and this record has none`,
      );
      return null;
    }
    const values = this.#values!;
    const out = values.decodeCached(rec.value) ?? (await values.decode(rec.value));
    if (!('reject' in out)) return out;
    this.#rejected.reject(rec, out.reject);
    return null;
  }

  /**
   * The decoded key of a record of a topic whose keys the registry decodes; null for a record
   * that goes to the rejected ones instead (no key, or a key that does not decode).
   */
  async #registryKey(rec: EncodableRecord): Promise<RegistryValue | null> {
    if (rec.key === null) {
      this.#rejected.reject(
        rec,
        'no key: the topic decodes keys with the Schema Registry (schema.key: true), and this record has none',
      );
      return null;
    }
    const values = this.#values!;
    const out = values.decodeCached(rec.key) ?? (await values.decode(rec.key));
    if (!('reject' in out)) return out;
    this.#rejected.reject(rec, `the key: ${out.reject}`);
    return null;
  }

  /**
   * `parquet`: the layout of the file the record goes in, its row written into {@link #row}
   * (column values in layout order, read by the file before the next record), or null when
   * the topic's schema does not take it: the record then goes to the rejected ones and into
   * no bucket (so no object exists for it alone).
   */
  #rowOf(
    { columns: registry }: FormatLibraries,
    rec: EncodableRecord,
    value: RegistryValue | null,
    parsed: unknown,
    eventMs: number,
    key: RegistryValue | null,
  ): ParquetLayout | null {
    const { spec, range } = this.#opts;
    const out = this.#row;
    try {
      kafkaValuesInto(out, rec, range.partition, eventMs);
      if (value === null) {
        inlineValuesInto(out, spec.schema as TopicSchema, rec.value, parsed);
        return this.#inlineLayout!;
      }
      // A registry value: Kafka's columns, then the writer schema's (registry-columns.ts).
      const columns = registry.registryColumnsOf(value.schema, value.message);
      if ('reject' in columns) {
        this.#rejected.reject(rec, columns.reject);
        return null;
      }
      const row = columns.valueRow(value.value);
      const names = columns.layout.names;
      for (let i = KAFKA_COLUMN_COUNT; i < names.length; i++) out[i] = row[names[i]!];
      if (key === null) return columns.layout;
      // A decoded key: `__kafka_key` typed by the key's schema, one file per key schema.
      const keyColumns = registry.registryColumnsOf(key.schema, key.message);
      if ('reject' in keyColumns) {
        this.#rejected.reject(rec, `the key: ${keyColumns.reject}`);
        return null;
      }
      out[KEY_COLUMN] = keyColumns.columnValue(key.value);
      return registry.keyedLayoutOf(columns, keyColumns);
    } catch (err) {
      if (!(err instanceof RecordRejection)) throw err;
      this.#rejected.reject(rec, err.message);
      return null;
    }
  }

  /** `avro` and `parquet`: their modules and the registry's decoder, at the first write. */
  async #loadLibraries(): Promise<FormatLibraries> {
    const libraries = await formatLibraries();
    const { format, schema } = this.#opts.spec;
    if (this.#opts.schemas !== undefined && (format === 'avro' || schema?.source === 'registry')) {
      // Parquet lays out Avro, JSON Schema and Protobuf values alike (registry-columns.ts).
      this.#values = new libraries.values.RegistryValueDecoder(this.#opts.schemas, {
        avroOnly: format === 'avro' ? 'avro' : null,
      });
      this.#avroSchemas = new libraries.avro.AvroFileSchemas();
    }
    this.#libraries = libraries;
    return libraries;
  }

  /** Encodes and routes a batch of records (in offset order), then writes what is ready. */
  async write(records: readonly EncodableRecord[]): Promise<void> {
    this.#check();
    if (records.length === 0) return;
    const format = this.#opts.spec.format;
    const libraries =
      format === 'avro' || format === 'parquet' ? (this.#libraries ?? (await this.#loadLibraries())) : null;
    const encoder = this.#encoder;
    const bucketer = this.#bucketer;
    let opening: BucketObject[] | null = null;
    let last: BucketObject | null = null;
    const fields = this.#fields.empty ? null : this.#fields;
    const parquet = this.#opts.spec.format === 'parquet';
    const needsValue = bucketer.needsValue || fields !== null || parquet;
    let accepted = 0;
    for (const rec of records) {
      const ts = Number(rec.timestamp);
      let value: RegistryValue | null = null;
      let avroSchema = '';
      if (this.#values !== null) {
        // The common case (a known schema, a whole record) costs no await per record.
        const cached = rec.value === null ? undefined : this.#values.decodeCached(rec.value);
        value = cached !== undefined && !('reject' in cached) ? cached : await this.#registryValue(rec);
        if (value === null) continue;
        if (!parquet) {
          // Avro files append Kafka's fields to the writer's record: not every schema can take them.
          const file = this.#avroSchemas!.of(value.schema);
          if (typeof file !== 'string') {
            this.#rejected.reject(rec, file.reject);
            continue;
          }
          avroSchema = file;
        }
      }
      let key: RegistryValue | null = null;
      if (this.#decodeKeys) {
        const cached = rec.key === null ? undefined : this.#values!.decodeCached(rec.key);
        key = cached !== undefined && !('reject' in cached) ? cached : await this.#registryKey(rec);
        if (key === null) continue;
      }
      const parsed = needsValue ? (value !== null ? value.value : encoder.parseValue(rec)) : undefined;
      const time = bucketer.folderOf(ts, parsed);
      const pq = parquet ? this.#rowOf(libraries!, rec, value, parsed, bucketer.lastTimeMs ?? ts, key) : null;
      if (parquet && pq === null) continue;
      const folder = fields === null ? time : time + fields.folderOf(parsed);
      // Avro and registry Parquet: one object per folder and writer schema.
      const id = value === null ? folder : `${folder}\0${value.schemaId}\0${key?.schemaId ?? ''}`;
      let b: BucketObject | undefined = last !== null && last.id === id ? last : this.#buckets.get(id);
      if (b?.parquet && pq !== null && b.parquet.layout !== pq) {
        // Protobuf: a schema id's file holds one message type; its key has no room for another.
        this.#rejected.reject(
          rec,
          `schema id ${value!.schemaId}: this range's file ${b.key} holds another message type of the schema; a range writes one message type per schema id`,
        );
        continue;
      }
      if (b === undefined) {
        const objectKey = dataObjectKey(
          this.#opts.spec,
          this.#opts.range,
          folder,
          value?.schemaId,
          key?.schemaId,
        );
        b = new BucketObject(folder, objectKey, id);
        if (value !== null && !parquet) {
          b.avro = new libraries!.avro.AvroContainerWriter({
            schema: avroSchema,
            compression: this.#opts.spec.compression,
            key: objectKey,
            out: b.out,
          });
        }
        this.#buckets.set(id, b);
        opening ??= [];
        opening.push(b);
      }
      if (b.avro !== null)
        b.avro.append(
          value!.payload,
          libraries!.avro.kafkaFieldsOf(rec, this.#opts.range.partition, bucketer.lastTimeMs ?? ts),
        );
      else if (pq !== null) {
        b.parquet ??= new libraries!.parquet.ParquetObject({
          layout: pq,
          compression: this.#opts.spec.compression,
          rowGroupBytes: this.#opts.parquetRowGroupBytes ?? DEFAULT_PARQUET_ROW_GROUP_BYTES,
          encoding: this.#parquetRevision,
        });
        // A row group's worth: its bytes join the object's chunks.
        if (b.parquet.add(this.#row, (rec.value?.length ?? 0) + (rec.key?.length ?? 0) + 64))
          b.out.bytes(b.parquet.take());
      } else encoder.encodeInto(rec, b.out);
      b.noteRecord(rec.offset, ts);
      accepted++;
      last = b;
      // Hand over full chunks as they fill, not after the whole batch: what is encoded and not
      // yet written stays under DRAIN_CHUNKS per object, however much a fetch held.
      if (b.compressor !== null && b.out.fullChunks >= DRAIN_CHUNKS) await this.#drain(b, false);
    }
    this.#records += accepted;
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
    // Avro and Parquet files compress inside: their streams go up as they are.
    const inside = b.avro !== null || this.#opts.spec.format === 'parquet';
    const compressor = inside
      ? createCompressor('none')
      : createCompressor(this.#opts.spec.compression, this.#opts.spec.compressionLevel);
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
      // A bucket exists only once a row went in: its file is ended here (last row group, footer).
      if (b.parquet !== null) b.out.bytes(b.parquet.finish());
      await this.#drain(b, true);
      b.compressor!.end();
    }
    await Promise.all(buckets.map((b) => b.done));
    if (this.#failure !== undefined) throw this.#failure;
    const stored = await Promise.all(buckets.map((b) => b.sink!.result));
    if (this.#rejected.records > 0) this.#rejectedEntry = await this.#storeRejected();
    const out = buckets.map((b, i) => entryOf(b, stored[i]!));
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** Uploads the rejected-records object (its key recorded first, like every object's). */
  async #storeRejected(): Promise<RejectedEntry> {
    const key = rejectedObjectKey(this.#opts.spec.destination.prefix, this.#opts.range);
    const [sink] = await this.#opts.target.openObjects([key]);
    const r = this.#rejected;
    const chunks = this.#rejectedOut.take(true);
    await pipeline(async function* () {
      yield* chunks;
    }, sink!);
    const stored = await sink!.result;
    return {
      key,
      records: r.records,
      bytes: stored.bytes,
      sha256: stored.sha256,
      firstOffset: r.firstOffset.toString(),
      lastOffset: r.lastOffset.toString(),
    };
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
      rejected: this.#rejectedEntry,
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
