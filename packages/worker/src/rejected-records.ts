/**
 * A range's rejected records: those its output format could not take (a value that is not
 * JSON, or a field of the wrong type for the topic's inline schema; a decoder may add its own
 * reasons, e.g. an unknown schema id). They never block the partition and are never dropped
 * silently: each becomes one JSON line of the range's rejected-records object
 * (`_sluice/rejected/…`, object-key.ts), which the commit record lists and the audit counts.
 *
 * Line: {"offset":N,"timestamp":ms,"reason":"…","key":base64|null,"value":base64|null}
 */
import type { ChunkBuilder } from './chunk-builder.ts';

/** What a decoder hands over when a record does not fit. */
export interface RejectedRecord {
  offset: bigint;
  timestamp: bigint;
  key: Buffer | null;
  value: Buffer | null;
}

/** The JSON line of a rejected record (newline included). */
export function rejectedLine(rec: RejectedRecord, reason: string): string {
  const b64 = (b: Buffer | null) => (b === null ? 'null' : `"${b.toString('base64')}"`);
  return `{"offset":${rec.offset},"timestamp":${Number(rec.timestamp)},"reason":${JSON.stringify(reason)},"key":${b64(rec.key)},"value":${b64(rec.value)}}\n`;
}

/** The rejected records of one range, in offset order, as the lines of their object. */
export class RejectedRecords {
  records = 0;
  firstOffset = -1n;
  lastOffset = -1n;
  readonly #out: ChunkBuilder;

  constructor(out: ChunkBuilder) {
    this.#out = out;
  }

  /** Rejects `rec` for `reason` (a sentence naming the field and what was expected). */
  reject(rec: RejectedRecord, reason: string): void {
    if (this.records === 0) this.firstOffset = rec.offset;
    this.records++;
    this.lastOffset = rec.offset;
    this.#out.utf8(rejectedLine(rec, reason));
  }
}
