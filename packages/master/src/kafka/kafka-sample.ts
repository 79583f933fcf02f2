/**
 * A small read of a few partitions at chosen offsets, for estimates (the registration dry
 * run): one Fetch per partition to its leader, of at most `maxBytes`, read_committed. Records
 * of aborted transactions may be among them (the worker's filter is not applied): fine for
 * sizes and times, not for data.
 */
import {
  createKafkaClient,
  KafkaErrorCodes,
  type KafkaSettings,
  kafkaCall,
  kafkaErrorName,
  kafkaMetadata,
  mapLimit,
} from '@sluice/shared';

export interface SampledRecord {
  offset: bigint;
  timestamp: number;
  keyBytes: number;
  valueBytes: number;
  /** Bytes of header keys and values, and their count. */
  headerBytes: number;
  headers: number;
  value: Buffer | null;
}

export interface PartitionSample {
  partition: number;
  records: SampledRecord[];
  /** Why there is no sample, or null. */
  error: string | null;
}

interface WireBatch {
  firstOffset: bigint;
  attributes: number;
  firstTimestamp: bigint;
  maxTimestamp: bigint;
  records: Array<{
    offsetDelta: number;
    timestampDelta: bigint;
    key: Buffer | null;
    value: Buffer | null;
    headers: Array<[Buffer | null, Buffer | null]>;
  }>;
}

interface FetchAnswer {
  responses: Array<{
    partitions: Array<{ partitionIndex: number; errorCode: number; records?: WireBatch[] | null }>;
  }>;
}

const LOG_APPEND_TIME = 0x08;
const CONTROL = 0x20;
const READ_COMMITTED = 1;

/** Up to `maxRecords` records of each partition from the given offset. Never throws. */
export async function sampleRecords(
  cfg: KafkaSettings,
  topic: string,
  at: ReadonlyArray<{ partition: number; offset: bigint }>,
  opts: { maxBytes?: number; maxRecords?: number } = {},
): Promise<PartitionSample[]> {
  const maxBytes = opts.maxBytes ?? 256 * 1024;
  const maxRecords = opts.maxRecords ?? 1_000;
  const client = createKafkaClient(cfg);
  try {
    const view = await kafkaMetadata(client, [topic]);
    const t = view.topics.get(topic);
    return await mapLimit(at, 4, async ({ partition, offset }): Promise<PartitionSample> => {
      const p = t?.partitions[partition];
      const broker = p ? view.brokers.get(p.leaderId) : undefined;
      if (!t || !p || !broker) return { partition, records: [], error: 'no leader known' };
      try {
        const { response } = await kafkaCall<FetchAnswer>(client, broker, 'Fetch', (api) => [
          100,
          1,
          maxBytes,
          READ_COMMITTED,
          0,
          -1,
          [
            {
              topicId: api.version >= 13 ? t.topicId : topic,
              partitions: [
                {
                  partition,
                  currentLeaderEpoch: p.leaderEpoch,
                  fetchOffset: offset,
                  lastFetchedEpoch: -1,
                  partitionMaxBytes: maxBytes,
                },
              ],
            },
          ],
          [],
          '',
        ]);
        const answer = response.responses
          .flatMap((r) => r.partitions)
          .find((x) => x.partitionIndex === partition);
        if (!answer) return { partition, records: [], error: 'no answer for the partition' };
        if (answer.errorCode !== KafkaErrorCodes.NONE) {
          return { partition, records: [], error: kafkaErrorName(answer.errorCode) };
        }
        const records: SampledRecord[] = [];
        for (const b of answer.records ?? []) {
          if ((b.attributes & CONTROL) !== 0) continue;
          for (const r of b.records) {
            const o = b.firstOffset + BigInt(r.offsetDelta);
            if (o < offset) continue;
            let headerBytes = 0;
            for (const [k, v] of r.headers) headerBytes += (k?.length ?? 0) + (v?.length ?? 0);
            records.push({
              offset: o,
              timestamp: Number(
                (b.attributes & LOG_APPEND_TIME) !== 0 ? b.maxTimestamp : b.firstTimestamp + r.timestampDelta,
              ),
              keyBytes: r.key?.length ?? 0,
              valueBytes: r.value?.length ?? 0,
              headerBytes,
              headers: r.headers.length,
              value: r.value,
            });
            if (records.length >= maxRecords) return { partition, records, error: null };
          }
        }
        return { partition, records, error: null };
      } catch (err) {
        return { partition, records: [], error: err instanceof Error ? err.message : String(err) };
      }
    });
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    return at.map(({ partition }) => ({ partition, records: [], error }));
  } finally {
    await client.close().catch(() => undefined);
  }
}
