/**
 * One Parquet object being written: rows gather in memory until a row group's worth, then
 * that row group is encoded and its bytes handed out (`take`), so memory stays bounded by
 * the row-group setting whatever the range size. Row groups are cut by the records' own
 * sizes and count, never by time, and the footer holds no time of writing and a fixed
 * `created_by`: a retry writes the same bytes (invariant 3).
 *
 * The writer is hyparquet-writer, chosen by bench/parquet-writers.ts (bench/README.md); zstd
 * and gzip come from node:zlib (single-threaded, fixed levels), snappy is its own.
 */
import zlib from 'node:zlib';
import type { Compression } from '@sluice/shared';
import { ByteWriter, type ColumnSource, ParquetWriter, type SchemaElement } from 'hyparquet-writer';
import type { ParquetLayout } from './parquet-columns.ts';

/** Written into every file's footer; the version is left out so that an upgrade writes the same bytes. */
export const PARQUET_CREATED_BY = 'sluice';
/** Rows in one row group at most, however small they are. */
export const ROW_GROUP_MAX_ROWS = 1_000_000;
/**
 * What a row costs in memory beyond its record's bytes, counted toward the row group: its JS
 * values while it waits, and above all its share of encoding (levels, statistics, dictionary
 * and page buffers cost about 1.5 KB a row, measured in bench/README.md "Memory of one
 * worker"). Without it a row group of 100 B records held 10 times its bytes while encoded.
 */
export const ROW_MEMORY_BYTES = 1024;
const ZSTD_LEVEL = 3;
const GZIP_LEVEL = 6;

type Codec = 'ZSTD' | 'GZIP' | 'SNAPPY' | 'UNCOMPRESSED';

function codecOf(c: Compression): Codec {
  return c === 'zstd' ? 'ZSTD' : c === 'gzip' ? 'GZIP' : c === 'snappy' ? 'SNAPPY' : 'UNCOMPRESSED';
}

/** The options of every page's zstd call, made once (a Buffer is the Uint8Array the writer takes). */
const ZSTD_OPTIONS = {
  params: {
    [zlib.constants.ZSTD_c_compressionLevel]: ZSTD_LEVEL,
    [zlib.constants.ZSTD_c_nbWorkers]: 0,
  },
};

const COMPRESSORS = {
  ZSTD: (b: Uint8Array) => zlib.zstdCompressSync(b, ZSTD_OPTIONS),
  GZIP: (b: Uint8Array) => zlib.gzipSync(b, { level: GZIP_LEVEL }),
};

/** What a revision sets per top-level column beyond its values. */
type ColumnChoice = Pick<ColumnSource, 'encoding' | 'statistics'>;

/**
 * Each top-level column's flat schema elements (its own, then its leaves'), in file order.
 * The layout's schema lists the root first, then every column depth first.
 */
function columnElements(schema: readonly SchemaElement[]): SchemaElement[][] {
  const out: SchemaElement[][] = [];
  let i = 1;
  const skip = (): void => {
    const e = schema[i++]!;
    for (let c = 0; c < (e.num_children ?? 0); c++) skip();
  };
  while (i < schema.length) {
    const from = i;
    skip();
    out.push(schema.slice(from, i));
  }
  return out;
}

/**
 * The choices of encoding revision 2 (shared/topic-config.ts PARQUET_ENCODING) for one
 * top-level column. A whole number column (INT32 or INT64, no children: offsets, times,
 * counters) is DELTA_BINARY_PACKED: Kafka's offsets and times grow by small steps, which delta
 * packs into a few bits where PLAIN spends 8 bytes and zstd then has to find the pattern.
 * A column whose leaves are all byte arrays (text, binary, JSON, lists of them) keeps no
 * statistics: comparing every value in UTF-8 order costs more than the rest of its encoding,
 * and the min/max of rows in offset order prune nothing for an engine.
 */
function choiceOf(elements: readonly SchemaElement[]): ColumnChoice {
  const [top] = elements;
  if (elements.length === 1 && (top!.type === 'INT32' || top!.type === 'INT64'))
    return { encoding: 'DELTA_BINARY_PACKED' };
  const leaves = elements.filter((e) => e.type !== undefined);
  if (leaves.every((e) => e.type === 'BYTE_ARRAY' || e.type === 'FIXED_LEN_BYTE_ARRAY'))
    return { statistics: false };
  return {};
}

/** Per top-level column, in layout order: what the range's encoding revision sets. */
function choicesOf(layout: ParquetLayout, revision: number): ColumnChoice[] {
  const columns = columnElements(layout.schema);
  // Revision 1: hyparquet-writer's defaults everywhere (what the first Parquet release wrote).
  return columns.map((elements) => (revision >= 2 ? choiceOf(elements) : {}));
}

/** A ByteWriter whose written bytes can be taken out as they come; `offset` keeps counting the file. */
class DrainingWriter extends ByteWriter {
  take(): Buffer {
    const out = Buffer.from(new Uint8Array(this.buffer, 0, this.index));
    this.index = 0;
    return out;
  }
}

export interface ParquetObjectOptions {
  /** The file's columns (parquet-columns.ts `inlineLayoutOf`, registry-columns.ts for registry schemas). */
  layout: ParquetLayout;
  compression: Compression;
  /** Cut a row group once its rows' bytes and their memory cost reach this (SLUICE_PARQUET_ROW_GROUP_BYTES). */
  rowGroupBytes: number;
  /** The range's encoding revision ({@link parquetRevisionOf}). */
  encoding: number;
}

export class ParquetObject {
  readonly #writer = new DrainingWriter();
  readonly #pq: ParquetWriter;
  readonly #names: string[];
  readonly #choices: ColumnChoice[];
  readonly #rowGroupBytes: number;
  #columns: unknown[][];
  #rows = 0;
  #bytes = 0;

  /** The file's columns. */
  readonly layout: ParquetLayout;

  constructor(opts: ParquetObjectOptions) {
    this.layout = opts.layout;
    this.#names = opts.layout.names;
    this.#columns = this.#names.map(() => []);
    this.#choices = choicesOf(opts.layout, opts.encoding);
    this.#rowGroupBytes = opts.rowGroupBytes;
    this.#pq = new ParquetWriter({
      writer: this.#writer,
      schema: opts.layout.schema,
      codec: codecOf(opts.compression),
      compressors: COMPRESSORS,
      createdBy: PARQUET_CREATED_BY,
    });
  }

  /**
   * Adds a row: its column values in layout order (parquet-columns.ts `kafkaValuesInto` and
   * the value's columns after them), copied out at once, so the caller may reuse the array.
   * `weight` is what its record counts toward the row group (the value and key bytes), to
   * which {@link ROW_MEMORY_BYTES} is added. Returns true when a row group was cut: its bytes
   * are ready to {@link take}.
   */
  add(row: readonly unknown[], weight: number): boolean {
    const columns = this.#columns;
    for (let i = 0; i < columns.length; i++) columns[i]!.push(row[i] ?? null);
    this.#rows++;
    this.#bytes += weight + ROW_MEMORY_BYTES;
    if (this.#bytes < this.#rowGroupBytes && this.#rows < ROW_GROUP_MAX_ROWS) return false;
    this.#flush();
    return true;
  }

  #flush(): void {
    if (this.#rows === 0) return;
    const columnData = this.#names.map((name, i) => ({ name, data: this.#columns[i]!, ...this.#choices[i] }));
    // One call, one row group: the writer cuts by rowGroupSize rows, which is all of them.
    this.#pq.write({ columnData, rowGroupSize: this.#rows });
    this.#columns = this.#names.map(() => []);
    this.#rows = 0;
    this.#bytes = 0;
  }

  /** The file's bytes written since the last take. */
  take(): Buffer {
    return this.#writer.take();
  }

  /** Writes the last row group and the footer; returns the remaining bytes. */
  finish(): Buffer {
    this.#flush();
    this.#pq.finish();
    return this.#writer.take();
  }
}
