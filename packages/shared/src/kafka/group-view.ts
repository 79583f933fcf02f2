/**
 * Kafka layer, group-view: what a consumer group looks like to its coordinator: whether anyone
 * is consuming with it (DescribeGroups: state and members) and the offsets it has committed for
 * one topic (OffsetFetch). The group mirror reads both before it writes, so that it never
 * disturbs a live group and never moves an offset backwards. Error codes are returned, not
 * thrown (call.ts).
 */
import type { Broker, describeGroupsV5, offsetFetchV9 } from '@platformatic/kafka';
import { kafkaCall } from './call.ts';
import { KafkaErrorCodes } from './errors.ts';
import type { KafkaClient } from './options.ts';

export interface GroupDescription {
  /** Group-level error code (0 when described; GROUP_ID_NOT_FOUND for some coordinators' unknown groups). */
  errorCode: number;
  /** `Empty`, `Dead` (no such group), `Stable`, `PreparingRebalance`, … */
  state: string;
  /** Members consuming with the group right now, by client id and host. */
  members: { clientId: string; clientHost: string }[];
}

/** DescribeGroups of one group on its coordinator. */
export async function kafkaDescribeGroup(
  client: KafkaClient,
  coordinator: Broker,
  group: string,
): Promise<GroupDescription> {
  const { response } = await kafkaCall<describeGroupsV5.DescribeGroupsResponse>(
    client,
    coordinator,
    'DescribeGroups',
    () => [[group], false],
  );
  const g = response.groups.find((x) => x.groupId === group) ?? response.groups[0];
  if (!g) return { errorCode: KafkaErrorCodes.COORDINATOR_NOT_AVAILABLE, state: '', members: [] };
  return {
    errorCode: g.errorCode,
    state: g.groupState,
    members: g.members.map((m) => ({ clientId: m.clientId, clientHost: m.clientHost })),
  };
}

export interface GroupOffsets {
  /** Group-level error code (0 when read). */
  errorCode: number;
  /** Partition → committed offset (-1 when the group has none for it) and its metadata. */
  partitions: Map<number, { offset: bigint; metadata: string | null; errorCode: number }>;
}

/**
 * OffsetFetch of `group`'s committed offsets for some partitions of `topic`, on its coordinator.
 * `requireStable`: wait for the offsets of open transactions rather than read ones that may
 * still move (a registration that takes over from the group asks for it).
 */
export async function kafkaGroupOffsets(
  client: KafkaClient,
  coordinator: Broker,
  group: string,
  topic: string,
  partitions: readonly number[],
  requireStable = false,
): Promise<GroupOffsets> {
  const { response } = await kafkaCall<offsetFetchV9.OffsetFetchResponse>(
    client,
    coordinator,
    'OffsetFetch',
    () => [
      [
        {
          groupId: group,
          memberId: null,
          memberEpoch: -1,
          topics: [{ name: topic, partitionIndexes: [...partitions] }],
        },
      ],
      requireStable,
    ],
  );
  const g = response.groups.find((x) => x.groupId === group) ?? response.groups[0];
  const out: GroupOffsets = {
    errorCode: g ? g.errorCode : KafkaErrorCodes.COORDINATOR_NOT_AVAILABLE,
    partitions: new Map(),
  };
  for (const t of g?.topics ?? []) {
    if (t.name !== topic) continue;
    for (const p of t.partitions) {
      out.partitions.set(p.partitionIndex, {
        offset: p.committedOffset,
        metadata: p.metadata ?? null,
        errorCode: p.errorCode,
      });
    }
  }
  return out;
}
