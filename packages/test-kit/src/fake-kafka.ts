/**
 * A Kafka that the test sets by hand: which topics exist (with their id) and each partition's
 * earliest and last stable offsets. It stands in for the `KafkaAdmin` of `@sluice/shared`
 * wherever the code under test only asks Kafka about topics and offsets (the leader's
 * planning, the API), so that those tests need no broker.
 */
import type { KafkaAdmin, PartitionOffsets, TopicMetadata } from '@sluice/shared';

export class FakeKafka implements KafkaAdmin {
  readonly topics = new Map<string, { topicId: string; offsets: PartitionOffsets[] }>();

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

  async offsets(topic: string, partitions: number[]): Promise<PartitionOffsets[]> {
    return (this.topics.get(topic)?.offsets ?? []).filter((o) => partitions.includes(o.partition));
  }

  async close(): Promise<void> {}
}
