/**
 * The status of the installation, as `GET /api/v1/status` and the dashboard show it: the reads
 * behind one answer (ZooKeeper, Kafka, Redis, all in parallel; a dependency that does not
 * answer leaves its part empty with the reason) and what the master keeps between answers.
 *
 *  - Answers are shared: concurrent requests wait for the one being computed, and an answer
 *    serves for `ttlMs` (many dashboards cost one computation a second). A change made
 *    through this master's API drops it, so the next read shows the change.
 *  - Throughput comes from committed totals sampled every `sampleEveryMs` (from each answer,
 *    or by a light read of partition states when no answer was made lately), kept in memory.
 *    Standbys sample too, so any master can answer.
 *  - Time lag comes from the Kafka timestamp of the record at each committed offset
 *    (record-times.ts, cached by offset).
 *  - On the leader, the time-lag gauges of /metrics are refreshed at least every
 *    `leaderRefreshMs`: by an answer when one was made lately, else by a look at only what they
 *    need (partition states, Kafka's watermarks, record times), which an idle installation
 *    answers from the watched session and one ListOffsets request per broker. The full answer
 *    (every range, the workers, the queue, integrity, the secret scrub) was the largest part
 *    of an idle leader's cost (bench/README.md, idle master).
 *  - ZooKeeper is read through a watched session (leadership/watched-zk.ts, STATUS_WATCHED):
 *    partition nodes and range names that did not change since the last answer cost no
 *    request, so an idle installation's answers and samples cost next to nothing.
 */
import { errorText, type KnownOffsets, type ZkSession } from '@sluice/shared';
import type { ApiDeps } from '../api/api-deps.ts';
import { configuredSecrets, scrubSecrets } from '../api/secret-scrubber.ts';
import { QUEUE_STATES } from '../api/status-schema.ts';
import { KAFKA_VIEW_TIMEOUT_MS, kafkaTopicViews } from '../kafka/kafka-view.ts';
import { RecordTimes } from '../kafka/record-times.ts';
import { STATUS_WATCHED, WatchedZk } from '../leadership/watched-zk.ts';
import { QUIET_METADATA_MAX_AGE_MS } from '../ranges/planning-loop.ts';
import { readTopicsPartitions } from '../stores/partition-reader.ts';
import { listTopics } from '../stores/topic-store.ts';
import { readWorkers } from '../stores/worker-registrations.ts';
import { readIntegrity, withIntegrity } from './integrity-status.ts';
import { withMirror } from './mirror-status.ts';
import {
  buildStatus,
  caughtUpOffsets,
  committedTotals,
  partitionTimeLags,
  type QueueCounts,
  type Status,
  timeQueries,
} from './status-view.ts';
import { ThroughputTracker } from './throughput.ts';
import { topicsFileStatus } from './topics-file-status.ts';

const QUEUE_TIMEOUT_MS = 2_000;

export interface StatusServiceOptions {
  /** How long one answer serves. @defaultValue 1000 */
  ttlMs?: number;
  /** How often committed totals are sampled for throughput. @defaultValue 5000 */
  sampleEveryMs?: number;
  /** The leader refreshes its time-lag gauges at least this often. @defaultValue 15000 */
  leaderRefreshMs?: number;
}

export class StatusService {
  readonly #deps: ApiDeps;
  readonly #ttlMs: number;
  readonly #sampleEveryMs: number;
  readonly #leaderRefreshMs: number;
  readonly #throughput = new ThroughputTracker();
  readonly #times: RecordTimes;
  readonly #secrets: string[];
  #answer: { status: Status; atMs: number } | null = null;
  #computing: Promise<Status> | null = null;
  #generation = 0;
  #timer: NodeJS.Timeout | null = null;
  #ticking = false;
  #watched: WatchedZk | null = null;
  /** When the time-lag gauges were last set (by an answer or a refresh of their own). */
  #lagsAtMs = 0;
  /** Caught-up partitions' offsets at the last refresh of the gauges (caughtUpOffsets). */
  #caughtUp: KnownOffsets = new Map();

  constructor(deps: ApiDeps, opts: StatusServiceOptions = {}) {
    this.#deps = deps;
    this.#ttlMs = opts.ttlMs ?? 1_000;
    this.#sampleEveryMs = opts.sampleEveryMs ?? 5_000;
    this.#leaderRefreshMs = opts.leaderRefreshMs ?? 15_000;
    this.#times = new RecordTimes(deps.config);
    this.#secrets = configuredSecrets(deps.config);
  }

  /** Starts sampling in the background. */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.#tick(), this.#sampleEveryMs);
    this.#timer.unref();
    void this.#tick();
  }

  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#computing?.catch(() => undefined);
    await this.#times.close();
  }

  /** Something changed through this master: the next read computes afresh. */
  invalidate(): void {
    this.#answer = null;
    this.#generation++;
  }

  /** The current status (shared between concurrent callers, cached for `ttlMs`). */
  get(): Promise<Status> {
    const a = this.#answer;
    if (a && Date.now() - a.atMs < this.#ttlMs) return Promise.resolve(a.status);
    if (this.#computing) return this.#computing;
    const generation = this.#generation;
    const computing = this.#compute()
      .then((status) => {
        if (generation === this.#generation) this.#answer = { status, atMs: Date.now() };
        return status;
      })
      .finally(() => {
        if (this.#computing === computing) this.#computing = null;
      });
    this.#computing = computing;
    return computing;
  }

  /** The watched session over the master's current one (a new session gets a new one). */
  #zk(): ZkSession {
    const session = this.#deps.zk();
    if (this.#watched?.session !== session) this.#watched = new WatchedZk(session, STATUS_WATCHED);
    return this.#watched;
  }

  async #tick(): Promise<void> {
    if (this.#ticking) return;
    this.#ticking = true;
    try {
      const now = Date.now();
      const leader = this.#deps.election.isLeader();
      if (leader && this.#deps.masterMetrics && now - this.#lagsAtMs >= this.#leaderRefreshMs) {
        await this.#refreshLags(this.#deps.masterMetrics);
      } else if (now - this.#throughput.lastSampleMs >= this.#sampleEveryMs - 1_000) {
        const zk = this.#zk();
        const names = (await listTopics(zk)).map((t) => t.record.topic);
        const flights = await readTopicsPartitions(zk, names, { withRanges: false });
        this.#throughput.sample(Date.now(), committedTotals(flights));
      }
    } catch (err) {
      this.#deps.log.debug({ err: errorText(err) }, 'status sampling failed');
    } finally {
      this.#ticking = false;
    }
  }

  async #compute(): Promise<Status> {
    const deps = this.#deps;
    const zk = this.#zk();
    const stored = await listTopics(zk);
    const topics = stored.map((t) => t.record);
    const names = topics.map((t) => t.topic);
    const [leader, workers, flights, kafka, queue, integrity, topicsFile] = await Promise.all([
      deps.election.leader(),
      readWorkers(zk),
      readTopicsPartitions(zk, names, { withRanges: true }),
      kafkaTopicViews(deps.kafka, names),
      this.#queueCounts(),
      readIntegrity(zk, topics),
      topicsFileStatus(zk, deps.config),
    ]);
    this.#throughput.sample(Date.now(), committedTotals(flights));
    await this.#times.lookup(timeQueries(topics, flights, kafka));
    const isLeader = deps.election.isLeader();
    const status = buildStatus({
      nowMs: Date.now(),
      master: { id: deps.config.id, leader: isLeader },
      leader,
      topics,
      flights,
      kafka,
      workers,
      queue,
      recordTime: (t, p) => this.#times.get(t, p),
      throughput: this.#throughput,
    });
    if (isLeader && deps.masterMetrics) {
      for (const t of status.topics) {
        for (const p of t.partitions) {
          deps.masterMetrics.partitionTimeLag(t.topic, p.partition, p.lagMs === null ? null : p.lagMs / 1000);
        }
      }
      this.#lagsAtMs = Date.now();
    }
    const mirrored = withMirror(status, topics, deps.mirrorReports, deps.config, isLeader);
    return scrubSecrets({ ...withIntegrity(mirrored, integrity), topicsFile }, this.#secrets);
  }

  /**
   * The leader's time-lag gauges (and a throughput sample) from only what they need: partition
   * states through the watched session, Kafka's offsets (only the watermark of partitions that
   * were caught up and still are), the record times of partitions behind.
   */
  async #refreshLags(metrics: NonNullable<ApiDeps['masterMetrics']>): Promise<void> {
    const zk = this.#zk();
    const topics = (await listTopics(zk)).map((t) => t.record);
    const names = topics.map((t) => t.topic);
    const [flights, kafka] = await Promise.all([
      readTopicsPartitions(zk, names, { withRanges: false }),
      kafkaTopicViews(this.#deps.kafka, names, KAFKA_VIEW_TIMEOUT_MS, this.#caughtUp, {
        metadataMaxAgeMs: QUIET_METADATA_MAX_AGE_MS,
      }),
    ]);
    this.#throughput.sample(Date.now(), committedTotals(flights));
    await this.#times.lookup(timeQueries(topics, flights, kafka));
    if (!this.#deps.election.isLeader()) return;
    const lags = partitionTimeLags({
      nowMs: Date.now(),
      topics,
      flights,
      kafka,
      recordTime: (t, p) => this.#times.get(t, p),
    });
    for (const l of lags)
      metrics.partitionTimeLag(l.topic, l.partition, l.lagMs === null ? null : l.lagMs / 1000);
    this.#lagsAtMs = Date.now();
    this.#caughtUp = caughtUpOffsets(flights, kafka);
  }

  async #queueCounts(): Promise<{ queue: QueueCounts; queueError: string | null }> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const counts = await Promise.race([
        this.#deps.queue.getJobCounts(...QUEUE_STATES),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`Redis did not answer within ${QUEUE_TIMEOUT_MS} ms`)),
            QUEUE_TIMEOUT_MS,
          );
        }),
      ]);
      // One entry per QUEUE_STATES name, which is what QueueCounts lists.
      const queue = Object.fromEntries(QUEUE_STATES.map((s) => [s, counts[s] ?? 0])) as QueueCounts;
      return { queue, queueError: null };
    } catch (err) {
      return { queue: null, queueError: errorText(err) };
    } finally {
      clearTimeout(timer);
    }
  }
}
