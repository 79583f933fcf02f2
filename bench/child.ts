/**
 * One measurement in a process of its own, so that its CPU time and peak memory are its
 * alone: `node --conditions=source bench/child.ts <kind> <input.json>`. Prints one JSON line.
 *
 *   raw-read  the worker's Kafka reader over a list of ranges (raw-read.ts)
 *   stages    on a sample of the dataset: the compressors alone, the range writer alone,
 *             and S3 PUT alone (codec-alone.ts, s3-alone.ts)
 *   master-scale  the leader's passes at many partitions (master-scale.ts; needs --expose-gc)
 *   leader-zk     the leader's passes against the real ZooKeeper (leader-zk.ts)
 */
import { readFileSync } from 'node:fs';
import type { Compression, Format } from '@sluice/shared';
import { compressAlone, encodeAll, sampleRecords, writerAlone } from './lib/codec-alone.ts';
import { type LeaderZkInput, leaderZk } from './lib/leader-zk.ts';
import { type MasterScaleInput, masterScale } from './lib/master-scale.ts';
import type { Measurement } from './lib/measurement.ts';
import { type RawReadInput, rawRead } from './lib/raw-read.ts';
import { type S3AloneInput, s3Alone } from './lib/s3-alone.ts';
import { benchEnv, s3Client } from './lib/stack.ts';

export interface StagesInput {
  brokers: string[];
  topic: string;
  topicId: string;
  sampleRecords: number;
  /** Records per writer batch (about one fetch). */
  batchRecords: number;
  /** Compressed this many times per stream. */
  compressRepeat: number;
  writerRepeat: number;
  parallel: number[];
  compressions: Compression[];
  writers: Array<{ format: Format; compression: Compression }>;
  s3: Omit<S3AloneInput, 'parallel'> & { parallel: number[] };
}

export interface StagesOutput {
  sampleRecords: number;
  sampleSourceBytes: number;
  encodedBytes: number;
  compress: Array<{ compression: Compression; parallel: number; m: Measurement }>;
  writer: Array<{ format: Format; compression: Compression; m: Measurement }>;
  s3: Array<{ parallel: number; m: Measurement }>;
}

async function stages(input: StagesInput): Promise<StagesOutput> {
  const records = await sampleRecords({
    brokers: input.brokers,
    topic: input.topic,
    topicId: input.topicId,
    partition: 0,
    records: input.sampleRecords,
  });
  let sampleSourceBytes = 0;
  for (const r of records) sampleSourceBytes += (r.key?.length ?? 0) + (r.value?.length ?? 0);
  const encoded = encodeAll(records, 'jsonl', input.topic);
  const out: StagesOutput = {
    sampleRecords: records.length,
    sampleSourceBytes,
    encodedBytes: encoded.length,
    compress: [],
    writer: [],
    s3: [],
  };
  for (const compression of input.compressions) {
    for (const parallel of input.parallel) {
      out.compress.push({
        compression,
        parallel,
        m: await compressAlone(encoded, compression, parallel, input.compressRepeat),
      });
    }
  }
  for (const w of input.writers) {
    out.writer.push({ ...w, m: await writerAlone(records, w, input.writerRepeat, input.batchRecords) });
  }
  const s3 = s3Client(benchEnv());
  try {
    for (const parallel of input.s3.parallel) {
      out.s3.push({ parallel, m: await s3Alone(s3, encoded, { ...input.s3, parallel }) });
    }
  } finally {
    s3.destroy();
  }
  return out;
}

const [kind, file] = process.argv.slice(2);
if (!kind || !file) throw new Error('usage: child.ts raw-read|stages <input.json>');
const input = JSON.parse(readFileSync(file, 'utf8'));
let result: unknown;
if (kind === 'raw-read') result = await rawRead(input as RawReadInput);
else if (kind === 'stages') result = await stages(input as StagesInput);
else if (kind === 'master-scale') result = await masterScale(input as MasterScaleInput);
else if (kind === 'leader-zk') result = await leaderZk(input as LeaderZkInput);
else throw new Error(`unknown kind ${kind}`);
process.stdout.write(`${JSON.stringify(result)}\n`);
