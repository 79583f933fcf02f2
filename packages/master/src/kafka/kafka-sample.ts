/**
 * A small read of a few partitions at chosen offsets, for estimates (the registration dry
 * run): one read_committed Fetch per partition to its leader, of at most `maxBytes`, through
 * the worker's read_committed filter (@sluice/shared's Kafka layer), so a sample shows only
 * records that Sluice would write: never those of an aborted transaction, never markers.
 */
import {
  committedRecords,
  createKafkaClient,
  type FetchedRecord,
  FetchIsolationLevels,
  fetchPartition,
  KafkaErrorCodes,
  type KafkaSettings,
  kafkaErrorName,
  kafkaMetadata,
  mapLimit,
  partitionLeader,
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

/** Past any offset: a sample ends where the answer ends. */
const NO_END = (1n << 63n) - 1n;

function sampled(r: FetchedRecord): SampledRecord {
  let headerBytes = 0;
  for (const [k, v] of r.headers) headerBytes += k.length + (v?.length ?? 0);
  return {
    offset: r.offset,
    timestamp: Number(r.timestamp),
    keyBytes: r.key?.length ?? 0,
    valueBytes: r.value?.length ?? 0,
    headerBytes,
    headers: r.headers.length,
    value: r.value,
  };
}

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
    const topicId = view.topics.get(topic)?.topicId ?? '';
    return await mapLimit(at, 4, async ({ partition, offset }): Promise<PartitionSample> => {
      const leader = partitionLeader(view, topic, partition);
      if (!leader) return { partition, records: [], error: 'no leader known' };
      try {
        const { partition: answer } = await fetchPartition(client, leader.broker, {
          topic,
          topicId,
          partition,
          leaderEpoch: leader.leaderEpoch,
          offset,
          maxWaitMs: 100,
          maxBytes,
          isolationLevel: FetchIsolationLevels.READ_COMMITTED,
        });
        if (answer.errorCode !== KafkaErrorCodes.NONE) {
          return { partition, records: [], error: kafkaErrorName(answer.errorCode) };
        }
        const { records } = committedRecords(
          answer.records ?? [],
          answer.abortedTransactions,
          offset,
          NO_END,
        );
        return { partition, records: records.slice(0, maxRecords).map(sampled), error: null };
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
