/**
 * Kafka layer, consumer group read: the offsets a consumer group committed for one topic
 * (OffsetFetch) and whether the group has members now (DescribeGroups), both asked of the
 * group's coordinator through group-view.ts, the requests the group mirror makes too. A registration that takes over from another pipeline starts where that
 * pipeline's group stopped, and refuses while the group still has a consumer: it would keep
 * moving on after Sluice read its offsets.
 *
 * Groups of Kafka's newer consumer protocol (KIP-848, Kafka 4) are not classic groups:
 * DescribeGroups answers `Dead` without members for them (or GROUP_ID_NOT_FOUND) even while
 * their consumers run, so ConsumerGroupDescribe is asked then (seen on Kafka 4.4 with a
 * consumer of `groupProtocol: "consumer"`; test/integration/start-from.test.ts).
 */
import type { Broker, consumerGroupDescribeV0 } from '@platformatic/kafka';
import { kafkaCall } from './call.ts';
import { kafkaGroupCoordinator } from './coordinator.ts';
import { kafkaErrorName } from './errors.ts';
import { kafkaDescribeGroup, kafkaGroupOffsets } from './group-view.ts';
import type { KafkaClient } from './options.ts';

/** What Kafka says of a consumer group, for one topic. */
export interface ConsumerGroupView {
  group: string;
  /**
   * The group's state as DescribeGroups reports it: `Empty` (no members, offsets kept),
   * `Stable`, `PreparingRebalance`, `CompletingRebalance`, or `Dead` (unknown to Kafka).
   */
  state: string;
  /** Members now (consumers of the group that are running). */
  members: number;
  /** Client ids and hosts of the members, for a message that says which consumer to stop. */
  memberClients: string[];
  /** Committed offsets (the next offset to read) by partition; partitions without one are absent. */
  offsets: Map<number, bigint>;
}

/** A group request answered with an error code (a partition's code is kept per partition). */
export class GroupRequestError extends Error {
  readonly kafkaCode: number;
  constructor(what: string, kafkaCode: number) {
    super(`${what}: ${kafkaErrorName(kafkaCode)}`);
    this.kafkaCode = kafkaCode;
  }
}

/** Consumer group `group`'s committed offsets for `partitions` of `topic`, and its members. */
export async function kafkaConsumerGroup(
  client: KafkaClient,
  group: string,
  topic: string,
  partitions: number[],
): Promise<ConsumerGroupView> {
  const coordinator = await kafkaGroupCoordinator(client, group);
  const [fetched, d] = await Promise.all([
    kafkaGroupOffsets(client, coordinator, group, topic, partitions, true),
    kafkaDescribeGroup(client, coordinator, group),
  ]);
  const what = `OffsetFetch of group ${JSON.stringify(group)}`;
  if (fetched.errorCode !== 0) throw new GroupRequestError(what, fetched.errorCode);
  const offsets = new Map<number, bigint>();
  for (const [partition, p] of fetched.partitions) {
    if (p.errorCode !== 0) throw new GroupRequestError(`${what} partition ${partition}`, p.errorCode);
    // -1: the group committed nothing for this partition.
    if (p.offset >= 0n) offsets.set(partition, p.offset);
  }
  if (d.errorCode !== 0 && d.errorCode !== GROUP_ID_NOT_FOUND) {
    throw new GroupRequestError(`DescribeGroups of group ${JSON.stringify(group)}`, d.errorCode);
  }
  const classic =
    d.errorCode === 0 && d.state !== 'Dead'
      ? { state: d.state, members: d.members.map((m) => `${m.clientId}@${m.clientHost.replace(/^\//, '')}`) }
      : null;
  const found = classic ?? (await consumerProtocolGroup(client, coordinator, group));
  return {
    group,
    state: found?.state ?? 'Dead',
    members: found?.members.length ?? 0,
    memberClients: found?.members ?? [],
    offsets,
  };
}

/** GROUP_ID_NOT_FOUND: a group the API asked does not know (or, for DescribeGroups, maybe not a classic group). */
const GROUP_ID_NOT_FOUND = 69;

/**
 * A group of the newer consumer protocol, from ConsumerGroupDescribe: its state and members;
 * null when Kafka knows no such group (or is too old to have the API, then no group is one).
 */
async function consumerProtocolGroup(
  client: KafkaClient,
  coordinator: Broker,
  group: string,
): Promise<{ state: string; members: string[] } | null> {
  let answer: consumerGroupDescribeV0.ConsumerGroupDescribeResponse;
  try {
    ({ response: answer } = await kafkaCall<consumerGroupDescribeV0.ConsumerGroupDescribeResponse>(
      client,
      coordinator,
      'ConsumerGroupDescribe',
      () => [[group], false],
    ));
  } catch (err) {
    if (/unsupported|no usable implementation/i.test(String(err))) return null;
    throw err;
  }
  const g = answer.groups.find((x) => x.groupId === group);
  if (!g || g.errorCode === GROUP_ID_NOT_FOUND) return null;
  if (g.errorCode !== 0)
    throw new GroupRequestError(`ConsumerGroupDescribe of group ${JSON.stringify(group)}`, g.errorCode);
  return {
    state: g.groupState,
    members: g.members.map((m) => `${m.clientId}@${m.clientHost.replace(/^\//, '')}`),
  };
}
