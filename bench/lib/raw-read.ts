/**
 * Baseline: the worker's own Kafka reader (createRangeReader) reading the ranges Sluice
 * would plan, with nothing done to the records but counting them: what a worker could move
 * if encoding, compression and S3 cost nothing. `parallel` ranges at once share one reader,
 * as a worker's concurrent jobs do.
 */
import { createRangeReader, type ReadRange } from '../../packages/worker/src/range-reader.ts';
import { type Measurement, measure } from './measurement.ts';

export interface RawReadInput {
  brokers: string[];
  fetchMaxBytes: number;
  parallel: number;
  ranges: Array<{ topic: string; topicId: string; partition: number; start: string; end: string }>;
}

export async function rawRead(input: RawReadInput): Promise<Measurement> {
  const reader = createRangeReader({
    kafkaBrokers: input.brokers,
    kafkaClientId: 'sluice-bench',
    kafkaSsl: false,
    kafkaSasl: null,
    fetchMaxBytes: input.fetchMaxBytes,
  });
  const queue: ReadRange[] = input.ranges.map((r) => ({ ...r, start: BigInt(r.start), end: BigInt(r.end) }));
  try {
    return await measure(async () => {
      let records = 0;
      let bytes = 0;
      const lane = async () => {
        for (let r = queue.shift(); r !== undefined; r = queue.shift()) {
          for await (const batch of reader.read(r)) {
            for (const rec of batch.records) {
              records++;
              bytes += (rec.key?.length ?? 0) + (rec.value?.length ?? 0);
            }
          }
        }
      };
      await Promise.all(Array.from({ length: input.parallel }, lane));
      return { records, bytes };
    });
  } finally {
    await reader.close();
  }
}
