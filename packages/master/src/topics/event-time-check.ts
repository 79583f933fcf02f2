/**
 * Registration, dry run and a change of `partitionBy` read a sample of the topic and refuse
 * (422 SLUICE_ERR_EVENT_TIME_UNUSABLE) an event-time field whose values do not read as dates
 * in the declared unit (issue 15 point 4): epoch seconds read as milliseconds landed silently
 * in `dt=1970-01-21`. The Kafka side of the check; what a sample must show is decided by
 * event-time-sample.ts. A topic with no records passes: there is nothing to check.
 */
import {
  ErrorCodes,
  type KafkaAdmin,
  type KafkaSettings,
  type PartitionBy,
  SluiceError,
  type TopicRecord,
} from '@sluice/shared';
import { sampleRecords } from '../kafka/kafka-sample.ts';
import {
  eventTimeSampleProblem,
  SAMPLE_PARTITIONS,
  SAMPLE_RECORDS,
  sampleOffsets,
} from './event-time-sample.ts';

/**
 * Samples up to SAMPLE_RECORDS records of each partition (at most SAMPLE_PARTITIONS) at `at`
 * and throws SLUICE_ERR_EVENT_TIME_UNUSABLE when {@link eventTimeSampleProblem} finds one. Partitions Kafka could not answer for are left out:
 * a sample is evidence, its absence is not.
 */
export async function checkEventTimeSample(
  kafka: KafkaSettings,
  topic: string,
  partitionBy: PartitionBy,
  at: ReadonlyArray<{ partition: number; offset: bigint }>,
  nowMs = Date.now(),
): Promise<void> {
  if (partitionBy.kind !== 'event-time' || at.length === 0) return;
  const samples = await sampleRecords(kafka, topic, at.slice(0, SAMPLE_PARTITIONS), {
    maxBytes: 64 * 1024,
    maxRecords: SAMPLE_RECORDS,
  });
  const sample = samples.flatMap((s) => s.records.map((record) => ({ partition: s.partition, record })));
  const problem = eventTimeSampleProblem(partitionBy, sample, nowMs);
  if (problem) {
    throw new SluiceError(ErrorCodes.EVENT_TIME_UNUSABLE, `topic "${topic}": ${problem}`, {
      retryable: false,
      details: { field: partitionBy.field, unit: partitionBy.unit ?? null },
    });
  }
}

/**
 * The check for a topic record about to be stored: at registration where each partition starts
 * (`record.starts`), after a change of `partitionBy` at the end of each partition (the records
 * the new setting will meet first are like the newest ones).
 */
export async function checkTopicEventTime(
  kafka: KafkaAdmin,
  settings: KafkaSettings,
  record: Pick<TopicRecord, 'topic' | 'partitionBy' | 'starts'>,
  partitions: number[],
  from: 'starts' | 'end',
): Promise<void> {
  if (record.partitionBy.kind !== 'event-time') return;
  const offsets = await kafka.offsets(record.topic, partitions);
  const at = sampleOffsets(
    offsets.map((o) => {
      const start = from === 'starts' ? record.starts?.find((s) => s.partition === o.partition) : undefined;
      return { ...o, start: start ? BigInt(start.startOffset) : from === 'end' ? o.lastStable : o.earliest };
    }),
  );
  await checkEventTimeSample(settings, record.topic, record.partitionBy, at);
}
