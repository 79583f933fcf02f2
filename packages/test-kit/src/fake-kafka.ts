/**
 * A Kafka that the test sets by hand: which topics exist (with their id) and each partition's
 * earliest and last stable offsets. It stands in for the `KafkaAdmin` of `@sluice/shared`
 * wherever the code under test only asks Kafka about topics and offsets (the leader's
 * planning, the API), so that those tests need no broker.
 */
import type {
  ConsumerGroupView,
  KafkaAdmin,
  PartitionOffsets,
  TopicMetadata,
  TopicOffsets,
} from '@sluice/shared';

/**
 * `KafkaAdmin.topicOffsets` of a stand-in made from its own `topicMetadata` and `offsets`:
 * every topic answered, none failing (a test that needs a failure overrides it); `known`
 * changes nothing, the offsets being at hand.
 */
export async function offsetsTopicByTopic(
  kafka: Pick<KafkaAdmin, 'topicMetadata' | 'offsets'>,
  topics: string[],
): Promise<Map<string, TopicOffsets>> {
  const out = new Map<string, TopicOffsets>();
  for (const [topic, metadata] of await kafka.topicMetadata(topics)) {
    const offsets = metadata ? await kafka.offsets(topic, metadata.partitions) : null;
    out.set(topic, { metadata, offsets, error: null });
  }
  return out;
}

export class FakeKafka implements KafkaAdmin {
  readonly topics = new Map<string, { topicId: string; offsets: PartitionOffsets[] }>();
  /** Per topic and partition, the first offset at or after a time: `[timestampMs, offset]` ascending. */
  readonly times = new Map<string, Map<number, Array<[number, bigint]>>>();
  /** Consumer groups by id: members now and committed offsets per topic and partition. */
  readonly groups = new Map<string, { members: string[]; offsets: Map<string, Map<number, bigint>> }>();

  set(topic: string, topicId: string, offsets: Array<[number, bigint, bigint]>): void {
    this.topics.set(topic, {
      topicId,
      offsets: offsets.map(([partition, earliest, lastStable]) => ({
        partition,
        earliest,
        latest: lastStable,
        lastStable,
      })),
    });
  }

  async topicMetadata(topics: string[]): Promise<Map<string, TopicMetadata | null>> {
    return new Map(
      topics.map((t) => {
        const k = this.topics.get(t);
        return [
          t,
          k ? { topic: t, topicId: k.topicId, partitions: k.offsets.map((o) => o.partition) } : null,
        ];
      }),
    );
  }

  async topicNames(): Promise<string[]> {
    return [...this.topics.keys()].sort();
  }

  async offsets(topic: string, partitions: number[]): Promise<PartitionOffsets[]> {
    return (this.topics.get(topic)?.offsets ?? []).filter((o) => partitions.includes(o.partition));
  }

  topicOffsets(topics: string[]): Promise<Map<string, TopicOffsets>> {
    return offsetsTopicByTopic(this, topics);
  }

  async offsetsAtTime(
    topic: string,
    partitions: number[],
    timestampMs: number,
  ): Promise<Map<number, bigint | null>> {
    const byPartition = this.times.get(topic);
    return new Map(
      partitions.map((p) => [p, byPartition?.get(p)?.find(([ms]) => ms >= timestampMs)?.[1] ?? null]),
    );
  }

  async consumerGroup(group: string, topic: string, partitions: number[]): Promise<ConsumerGroupView> {
    const g = this.groups.get(group);
    const committed = g?.offsets.get(topic) ?? new Map<number, bigint>();
    return {
      group,
      state: !g ? 'Dead' : g.members.length > 0 ? 'Stable' : 'Empty',
      members: g?.members.length ?? 0,
      memberClients: g?.members ?? [],
      offsets: new Map([...committed].filter(([p]) => partitions.includes(p))),
    };
  }

  async close(): Promise<void> {}
}
