/**
 * `sluice audit --deep`: reads one data object back, streaming (objects are hundreds of MB),
 * and says what is in it: the SHA-256 of the bytes as stored and, for `jsonl`, how many
 * records it holds, its first and last offset, and lines that are not records of its range.
 *
 * Offsets are taken from the line's text, not through `JSON.parse`, so offsets beyond 2^53
 * stay exact: every line starts with topic, partition and offset (shared/src/jsonl-line.ts).
 * `raw` objects carry no offsets and their values may hold newlines: only the checksum is
 * compared for them.
 */
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createZstdDecompress } from 'node:zlib';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  errorText,
  objectStream,
  parseDataObjectName,
  parseFileExtension,
  parseJsonlLineHead,
} from '@sluice/shared';
import type { ReadBack } from './audit.ts';

/** Counts jsonl records and checks each belongs to `[start, end)` of the topic's partition. */
export class JsonlTally extends Transform {
  readonly #topic: string;
  readonly #partition: number;
  readonly #start: bigint;
  readonly #end: bigint;
  #rest = '';
  #decoder = new TextDecoder('utf-8');
  records = 0;
  firstOffset: string | null = null;
  lastOffset: string | null = null;
  strayLines = 0;
  #previous = -1n;

  constructor(range: { topic: string; partition: number; start: bigint; end: bigint }) {
    super();
    this.#topic = range.topic;
    this.#partition = range.partition;
    this.#start = range.start;
    this.#end = range.end;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    const text = this.#rest + this.#decoder.decode(chunk, { stream: true });
    const lines = text.split('\n');
    this.#rest = lines.pop() ?? '';
    for (const l of lines) this.#line(l);
    cb();
  }

  override _flush(cb: TransformCallback): void {
    const tail = this.#rest + this.#decoder.decode();
    if (tail !== '') this.#line(tail);
    cb();
  }

  #line(line: string): void {
    if (line === '') return;
    const head = parseJsonlLineHead(line);
    if (!head) {
      this.strayLines++;
      return;
    }
    const offset = head.offset;
    if (
      head.topic !== this.#topic ||
      head.partition !== this.#partition ||
      offset < this.#start ||
      offset >= this.#end ||
      offset <= this.#previous
    ) {
      this.strayLines++;
      return;
    }
    this.#previous = offset;
    this.records++;
    this.firstOffset ??= offset.toString();
    this.lastOffset = offset.toString();
  }
}

class Hasher extends Transform {
  readonly hash = createHash('sha256');
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    cb(null, chunk);
  }
}

/**
 * Reads `key` (a data object of `topic`) back from S3 and tallies it. Never throws: a failure
 * is the result's `error`.
 */
export async function readBackObject(
  s3: S3Client,
  bucket: string,
  key: string,
  topic: string,
): Promise<ReadBack> {
  const name = parseDataObjectName(key);
  const range = name && { topic, ...name };
  const hasher = new Hasher();
  const empty = { sha256: '', records: null, firstOffset: null, lastOffset: null, strayLines: 0 };
  if (!range) return { ...empty, error: 'not a data object name' };
  try {
    const body = await objectStream(s3, bucket, key);
    if (!body) return { ...empty, error: 'empty answer' };
    const encoding = parseFileExtension(key);
    if (encoding?.format !== 'jsonl') {
      await pipeline(body, hasher, async (source: AsyncIterable<Buffer>) => {
        for await (const _ of source) {
          // the checksum is all a raw object is compared by
        }
      });
      return { ...empty, sha256: hasher.hash.digest('hex') };
    }
    const tally = new JsonlTally(range);
    const drain = async (source: AsyncIterable<Buffer>) => {
      for await (const _ of source) {
        // drained: the tally only counts
      }
    };
    if (encoding.compression === 'gzip') await pipeline(body, hasher, createGunzip(), tally, drain);
    else if (encoding.compression === 'zstd')
      await pipeline(body, hasher, createZstdDecompress(), tally, drain);
    else await pipeline(body, hasher, tally, drain);
    return {
      sha256: hasher.hash.digest('hex'),
      records: tally.records,
      firstOffset: tally.firstOffset,
      lastOffset: tally.lastOffset,
      strayLines: tally.strayLines,
    };
  } catch (err) {
    return { ...empty, error: errorText(err) };
  }
}
