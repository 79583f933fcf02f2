/**
 * Kafka layer, offset-commit: writes a consumer group's committed offsets for some partitions
 * of one topic (OffsetCommit) as a "simple" group: generation -1 and an empty member id, the
 * way Kafka's own admin tools reset offsets. Kafka accepts such a commit only while the group
 * has no active members, so a consumer really using that group name is never disturbed: the
 * commit comes back with UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION or a member-epoch code instead.
 * Per-partition error codes are returned, not thrown (call.ts).
 */
import type { Broker, offsetCommitV9 } from '@platformatic/kafka';
import { kafkaCall } from './call.ts';
import type { KafkaClient } from './options.ts';

/** The metadata string stored with each offset Sluice commits, so a reader can tell who wrote it. */
export const SLUICE_OFFSET_METADATA = 'sluice';

/**
 * Commits `offsets` (partition → next offset to read, Kafka's convention) of `topic` for
 * `group` on its coordinator. Resolves with each partition's error code (0 when stored).
 */
export async function kafkaOffsetCommit(
  client: KafkaClient,
  coordinator: Broker,
  group: string,
  topic: string,
  offsets: ReadonlyMap<number, bigint>,
): Promise<Map<number, number>> {
  const partitions = [...offsets].map(([partitionIndex, committedOffset]) => ({
    partitionIndex,
    committedOffset,
    committedLeaderEpoch: -1,
    committedMetadata: SLUICE_OFFSET_METADATA,
  }));
  const { response } = await kafkaCall<offsetCommitV9.OffsetCommitResponse>(
    client,
    coordinator,
    'OffsetCommit',
    () => [group, -1, '', null, [{ name: topic, partitions }]],
  );
  const out = new Map<number, number>();
  for (const t of response.topics) {
    for (const p of t.partitions) out.set(p.partitionIndex, p.errorCode);
  }
  return out;
}
