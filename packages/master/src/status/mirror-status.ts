/**
 * The group-mirror part of `GET /api/v1/status`: per topic, the consumer group its committed
 * offsets are mirrored into, how the mirror stands, and the group's offsets and lag as Kafka's
 * tools see them. The state lives in the leader's memory (kafka/group-mirror.ts): a standby
 * answers with the group's name and `unknown`.
 */
import { type MirrorGroupSettings, mirrorGroupOf, type TopicRecord } from '@sluice/shared';
import { lagBody, nullableOffsetBody, ref } from '../api/common-schemas.ts';
import type { Answer } from '../api/type-provider.ts';
import type { MirrorReports } from '../kafka/group-mirror.ts';

export const mirrorTopicProperties = {
  mirror: {
    type: 'object',
    description:
      'The Kafka consumer group the topic’s committed offsets are mirrored into (`kafka-consumer-groups.sh --describe --group {group}` shows the same offsets and lag).',
    properties: {
      group: {
        type: ['string', 'null'],
        description:
          'The group; null when not mirrored (SLUICE_MIRROR_GROUP_OFFSETS=false, or `mirrorGroup: null`).',
      },
      state: {
        type: 'string',
        enum: ['off', 'pending', 'following', 'group-active', 'group-ahead', 'failing', 'unknown'],
        description:
          '`following`: the group holds the committed offsets; `pending`: not written yet; `group-active`: someone consumes with the group, so Sluice leaves it alone; `group-ahead`: the group is beyond Sluice in some partition and is not moved back; `failing`: Kafka refused or did not answer (retried); `unknown`: this master is a standby (ask the leader); `off`: not mirrored (or the topic is stopped, see `message`).',
      },
      message: {
        type: ['string', 'null'],
        description: 'What is wrong and what to do; null when nothing is.',
      },
      mirroredAt: {
        type: ['string', 'null'],
        description: 'When the group last held every committed offset (ISO time); null before.',
      },
      lag: {
        ...lagBody,
        description:
          'Offsets between the group’s offsets and the high watermarks, summed; null when unknown.',
      },
      partitions: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            partition: { type: 'integer' },
            offset: {
              ...nullableOffsetBody,
              description: 'The group’s committed offset (next to read); null when it has none.',
            },
            lag: ref('Lag'),
          },
          required: ['partition', 'offset', 'lag'],
        },
      },
    },
    required: ['group', 'state', 'message', 'mirroredAt', 'lag', 'partitions'],
  },
} as const;

const topicMirrorSchema = {
  type: 'object',
  properties: mirrorTopicProperties,
  required: ['mirror'],
} as const;
export type TopicMirror = Answer<typeof topicMirrorSchema>;

/** A topic's partitions as the status shows them: what the group lag is measured against. */
interface PartitionMarks {
  partition: number;
  highWatermark: string | null;
}

/** The mirror part of one topic. Pure. */
export function mirrorOf(
  record: Pick<TopicRecord, 'topic' | 'mirrorGroup'> & { state?: TopicRecord['state'] },
  partitions: readonly PartitionMarks[],
  reports: MirrorReports | undefined,
  settings: MirrorGroupSettings,
  isLeader: boolean,
): TopicMirror['mirror'] {
  const group = mirrorGroupOf(record, settings);
  if (!group)
    return { group: null, state: 'off', message: null, mirroredAt: null, lag: null, partitions: [] };
  if (record.state === 'stopped') {
    // The mirror skips a stopped topic (kafka/group-mirror.ts says why).
    const message = 'the topic is stopped (see its error): its group is not written';
    return { group, state: 'off', message, mirroredAt: null, lag: null, partitions: [] };
  }
  const report = reports?.get(record.topic);
  const known = report && report.group === group ? report : null;
  const rows = partitions.map((p) => {
    const offset = known?.offsets.get(p.partition) ?? null;
    const lag =
      offset === null || p.highWatermark === null
        ? null
        : Number(BigInt(p.highWatermark) > offset ? BigInt(p.highWatermark) - offset : 0n);
    return { partition: p.partition, offset: offset === null ? null : offset.toString(), lag };
  });
  const lags = rows.map((r) => r.lag);
  return {
    group,
    state: known ? known.state : isLeader ? 'pending' : 'unknown',
    message: known ? known.message : null,
    mirroredAt: known ? known.mirroredAt : null,
    lag: lags.some((l) => l === null) ? null : (lags as number[]).reduce((a, b) => a + b, 0),
    partitions: rows,
  };
}

/** The status with each topic's mirror part added. */
export function withMirror<
  S extends { topics: Array<{ topic: string; partitions: readonly PartitionMarks[] }> },
>(
  status: S,
  records: readonly Pick<TopicRecord, 'topic' | 'mirrorGroup' | 'state'>[],
  reports: MirrorReports | undefined,
  settings: MirrorGroupSettings,
  isLeader: boolean,
): S & { topics: Array<S['topics'][number] & TopicMirror> } {
  const byTopic = new Map(records.map((r) => [r.topic, r]));
  return {
    ...status,
    topics: status.topics.map((t) => ({
      ...t,
      mirror: mirrorOf(byTopic.get(t.topic) ?? { topic: t.topic }, t.partitions, reports, settings, isLeader),
    })),
  };
}
