/**
 * The worker's Avro and Parquet modules, loaded when a range first writes `avro` or `parquet`.
 * They bring avsc, protobufjs and hyparquet-writer, which every worker paid for at start
 * although most topics write jsonl or raw (issue 14: start-up under 1 CPU s). Loaded once per
 * process: later ranges get the same modules, and their bytes are the same as if loaded at start
 * (which module is loaded when changes nothing a range writes).
 */
import type * as AvroContainer from './avro-container.ts';
import type * as ParquetObject from './parquet-object.ts';
import type * as RegistryColumns from './registry-columns.ts';
import type * as RegistryValues from './registry-values.ts';

export interface FormatLibraries {
  avro: typeof AvroContainer;
  parquet: typeof ParquetObject;
  columns: typeof RegistryColumns;
  values: typeof RegistryValues;
}

let loading: Promise<FormatLibraries> | undefined;

/** The four modules together: an `avro` or registry `parquet` range needs most of them. */
export function formatLibraries(): Promise<FormatLibraries> {
  loading ??= Promise.all([
    import('./avro-container.ts'),
    import('./parquet-object.ts'),
    import('./registry-columns.ts'),
    import('./registry-values.ts'),
  ]).then(([avro, parquet, columns, values]) => ({ avro, parquet, columns, values }));
  return loading;
}
