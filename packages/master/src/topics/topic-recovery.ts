/**
 * Rebuilds Sluice's registrations from S3 alone (issue 15, "ZooKeeper lost: rebuilt from S3";
 * `POST /api/v1/recover`, `sluice recover`). ZooKeeper holds the topics, plans and committed
 * offsets; when its data is lost (a new ensemble, a wiped volume, a chroot deleted by mistake)
 * the config objects the master writes beside the commit records
 * (`{prefix}/{topic}/_sluice/config.json`) and the commit records themselves say everything
 * needed to go on:
 *
 *   1. scan: the topic folders directly below each destination's prefix, and their config
 *      objects; a topic found in several destinations (it moved) is taken from its newest one;
 *   2. per topic, decide ({@link recoveryDecision}): a topic ZooKeeper has is left alone; one
 *      Kafka does not have, or has under another topic id (re-created: its offsets started
 *      again, the old commit records say nothing of it), is reported and not registered; so is
 *      one an operator deleted (its config object says when);
 *   3. the others are registered from their config object, each partition starting at the end
 *      of its contiguous commit records in every destination the topic ever had, through the
 *      same resume logic as a registration (topic-resume.ts); a partition without any starts
 *      where the original registration started it, so nothing produced since is skipped.
 *
 * New ranges then begin exactly where the commit records end: no object is written twice, no
 * offset skipped. A hole in a partition's commit records (a range never committed between two
 * that were) is reported: the partition resumes at the hole, and what lies beyond it is the
 * audit's to report.
 */
import {
  type Destination,
  destinationsOf,
  ErrorCodes,
  isNoSuchBucket,
  type KafkaAdmin,
  type Logger,
  parseConfigObjectKey,
  parseTopicConfigObject,
  SluiceError,
  type TopicConfigObject,
  type TopicRecord,
  topicConfigProblems,
  ValidationError,
  type ZkSession,
} from '@sluice/shared';
import type { OutputStore } from '../stores/output-store.ts';
import { createTopic, readTopic } from '../stores/topic-store.ts';
import { writeConfigObject } from './config-object-writer.ts';
import type { DestinationCheck } from './destination-probe.ts';
import { newTopicRecord } from './topic-request.ts';
import { type CommitRun, commitRuns, resumingRegistration } from './topic-resume.ts';

/** A config object found by the scan. */
export interface FoundConfig {
  bucket: string;
  key: string;
  object: TopicConfigObject;
}

/** A key the scan could not use, and why. */
export interface ScanProblem {
  bucket: string;
  key: string;
  problem: string;
}

export type RecoveryOutcome =
  | 'recovered'
  | 'would-recover'
  | 'already-registered'
  | 'deleted'
  | 'topic-id-differs'
  | 'not-in-kafka'
  | 'failed';

export interface RecoveredPartition {
  partition: number;
  /** Where the partition goes on: the end of its contiguous commit records (or its original start). */
  committedOffset: string;
  commitRecords: number;
  hole: { from: string; to: string } | null;
}

export interface RecoveredTopic {
  topic: string;
  /** `s3://bucket/key` of the config object it was recovered from. */
  configObject: string;
  outcome: RecoveryOutcome;
  message: string;
  topicId: string;
  partitions: RecoveredPartition[];
}

export interface RecoveryReport {
  dryRun: boolean;
  topics: RecoveredTopic[];
  /** Config objects that could not be read (the topic is not recovered from them). */
  problems: ScanProblem[];
}

export interface RecoveryDeps {
  zk: ZkSession;
  kafka: KafkaAdmin;
  store: Pick<OutputStore, 'list' | 'commits' | 'folders' | 'text' | 'putJson'>;
  checkDestination: DestinationCheck;
  log: Pick<Logger, 'info' | 'warn'>;
}

/** Config objects read at once. */
const READ_CONCURRENCY = 8;

function folderOf(prefix: string): string {
  return prefix ? `${prefix}/` : '';
}

/** A destination that cannot be listed because of the request (no such bucket, no right to it) is a 422. */
function unusable(err: unknown, d: Destination): unknown {
  if (!(err instanceof SluiceError)) return err;
  if (!isNoSuchBucket(err) && err.code !== ErrorCodes.FORBIDDEN && err.code !== ErrorCodes.UNAUTHORIZED)
    return err;
  return new SluiceError(
    ErrorCodes.DESTINATION_UNUSABLE,
    `destination bucket "${d.bucket}" cannot be scanned for topics to recover: ${err.message}`,
    { retryable: false, cause: err, details: { bucket: d.bucket, prefix: d.prefix } },
  );
}

/** Scans destinations for config objects (see the file comment, step 1). */
export async function scanConfigObjects(
  store: RecoveryDeps['store'],
  destinations: readonly Destination[],
): Promise<{ found: FoundConfig[]; problems: ScanProblem[] }> {
  const found: FoundConfig[] = [];
  const problems: ScanProblem[] = [];
  for (const d of destinations) {
    let folders: string[];
    try {
      folders = await store.folders(d.bucket, folderOf(d.prefix));
    } catch (err) {
      throw unusable(err, d);
    }
    const keys = folders
      .map((f) => `${f}_sluice/config.json`)
      .filter((k) => parseConfigObjectKey(k)?.prefix === d.prefix);
    for (let i = 0; i < keys.length; i += READ_CONCURRENCY) {
      const batch = keys.slice(i, i + READ_CONCURRENCY);
      const texts = await Promise.all(batch.map((k) => store.text(d.bucket, k)));
      batch.forEach((key, j) => {
        const text = texts[j];
        // A folder without a config object is not a topic Sluice wrote (or one from before them).
        if (text === null || text === undefined) return;
        const parsed = parseTopicConfigObject(text);
        if (typeof parsed === 'string')
          problems.push({ bucket: d.bucket, key, problem: `config object ${parsed}` });
        else if (parsed.config.topic !== parseConfigObjectKey(key)?.topic)
          problems.push({
            bucket: d.bucket,
            key,
            problem: `names topic "${parsed.config.topic}", not its folder's`,
          });
        else found.push({ bucket: d.bucket, key, object: parsed });
      });
    }
  }
  return { found, problems };
}

/** Pure: per topic, the newest of its config objects (a topic that moved left older ones behind). */
export function newestConfigs(found: readonly FoundConfig[]): FoundConfig[] {
  const byTopic = new Map<string, FoundConfig>();
  for (const f of found) {
    const had = byTopic.get(f.object.config.topic);
    if (!had || f.object.writtenAt > had.object.writtenAt) byTopic.set(f.object.config.topic, f);
  }
  return [...byTopic.values()].sort((a, b) => (a.object.config.topic < b.object.config.topic ? -1 : 1));
}

/** Pure: what recovery does with a topic (see the file comment, step 2), with the reason. */
export function recoveryDecision(
  object: TopicConfigObject,
  registered: boolean,
  kafkaTopicId: string | null,
): { outcome: RecoveryOutcome; message: string } | null {
  const topic = object.config.topic;
  if (registered)
    return {
      outcome: 'already-registered',
      message: `topic "${topic}" is registered; left alone (its registration in ZooKeeper is the truth while it exists)`,
    };
  if (object.deletedAt !== undefined)
    return {
      outcome: 'deleted',
      message: `topic "${topic}" was unregistered (DELETE) at ${object.deletedAt}; not registered again. Register it with POST /api/v1/topics if it should be (it resumes after its commit records)`,
    };
  if (kafkaTopicId === null)
    return {
      outcome: 'not-in-kafka',
      message: `Kafka has no topic "${topic}"; not registered. Recover again once it exists, if it should`,
    };
  if (kafkaTopicId !== object.topicId)
    return {
      outcome: 'topic-id-differs',
      message: `Kafka's topic "${topic}" has id ${kafkaTopicId}, the config object ${object.topicId}: the topic was re-created and its offsets started again, so its commit records do not say where to resume; not registered. Register it with POST /api/v1/topics and choose startFrom (or another destination prefix)`,
    };
  return null;
}

/** The record recovery registers: the config object's config, topic id and past destinations. */
export function recoveredRecord(object: TopicConfigObject, now: Date): TopicRecord {
  // An object in S3 is input like a request body: the same rules before anything is stored.
  const problems = topicConfigProblems(object.config);
  if (problems.length > 0) throw new ValidationError(problems);
  const fresh = newTopicRecord(object.config, object.topicId, now);
  return {
    ...fresh,
    createdAt: object.createdAt,
    ...(object.pastDestinations.length > 0 ? { pastDestinations: object.pastDestinations } : {}),
  };
}

/** Pure: one line per partition of what recovery found and decided. */
export function recoveredPartitions(
  record: TopicRecord,
  runs: ReadonlyMap<number, CommitRun>,
): RecoveredPartition[] {
  return (record.starts ?? [])
    .map((s) => {
      const run = runs.get(s.partition);
      return {
        partition: s.partition,
        committedOffset: s.startOffset,
        commitRecords: run?.commitRecords ?? 0,
        hole: run?.hole ? { from: run.hole.from.toString(), to: run.hole.to.toString() } : null,
      };
    })
    .sort((a, b) => a.partition - b.partition);
}

async function recoverOne(deps: RecoveryDeps, found: FoundConfig, dryRun: boolean): Promise<RecoveredTopic> {
  const { object } = found;
  const topic = object.config.topic;
  const base = {
    topic,
    configObject: `s3://${found.bucket}/${found.key}`,
    topicId: object.topicId,
    partitions: [] as RecoveredPartition[],
  };
  const registered = (await readTopic(deps.zk, topic)) !== null;
  const meta =
    registered || object.deletedAt !== undefined
      ? null
      : ((await deps.kafka.topicMetadata([topic])).get(topic) ?? null);
  const decided = recoveryDecision(object, registered, meta?.topicId ?? null);
  if (decided) return { ...base, ...decided };

  const record = recoveredRecord(object, new Date());
  await deps.checkDestination(topic, record);
  const runs = await commitRuns(deps.store, destinationsOf(record), topic, record.topicId);
  const origin = new Map((object.starts ?? []).map((s) => [s.partition, BigInt(s.startOffset)]));
  const resumed = await resumingRegistration(deps.kafka, deps.store, record, meta!.partitions, true, {
    runs,
    origin,
  });
  const partitions = recoveredPartitions(resumed, runs);
  if (dryRun)
    return { ...base, partitions, outcome: 'would-recover', message: 'dry run: nothing registered' };
  await createTopic(deps.zk, resumed);
  await writeConfigObject(deps.store, resumed, deps.log);
  deps.log.info({ topic, starts: resumed.starts }, 'topic recovered from S3');
  return {
    ...base,
    partitions,
    outcome: 'recovered',
    message: `registered again from ${base.configObject}; each partition goes on after its commit records`,
  };
}

/** Scans the destinations and recovers every topic found (see the file comment). */
export async function recoverTopics(
  deps: RecoveryDeps,
  destinations: readonly Destination[],
  dryRun: boolean,
): Promise<RecoveryReport> {
  const { found, problems } = await scanConfigObjects(deps.store, destinations);
  const topics: RecoveredTopic[] = [];
  for (const f of newestConfigs(found)) {
    try {
      topics.push(await recoverOne(deps, f, dryRun));
    } catch (err) {
      // One topic that cannot be recovered (its bucket gone, a race with a registration) does not stop the others.
      const message = err instanceof SluiceError ? `${err.code}: ${err.message}` : String(err);
      deps.log.warn({ topic: f.object.config.topic, err: message }, 'topic not recovered');
      topics.push({
        topic: f.object.config.topic,
        configObject: `s3://${f.bucket}/${f.key}`,
        outcome: 'failed',
        message,
        topicId: f.object.topicId,
        partitions: [],
      });
    }
  }
  return { dryRun, topics, problems };
}
