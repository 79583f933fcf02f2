/**
 * The group mirror (leader only): copies each topic's committed offsets into a Kafka consumer
 * group, so that `kafka-consumer-groups.sh --describe`, Burrow, Kafka UI and cloud consoles
 * show Sluice's lag like any consumer's.
 *
 *  - It follows the tracker: a commit only marks its topic (`note`), and a round a second
 *    later writes every marked topic once, with all its partitions in one OffsetCommit. It runs
 *    on its own timer, outside the leader's pass chain, so it never delays or fails a commit.
 *  - What it writes is the committed offset the tracker stored in ZooKeeper after the data
 *    and commit records were in S3, read from the leader's cache: never anything earlier.
 *  - Never backwards: it reads the group's offsets first and writes only the partitions where
 *    the group is behind (group-mirror-plan.ts). A group someone moved ahead is reported.
 *  - A group somebody consumes with (it has members) is not touched: reported and retried.
 *    Kafka refuses a simple-group commit to such a group anyway (offset-commit.ts).
 *  - A failure is logged, counted (`sluice_group_mirror_failures_total`) and retried with
 *    backoff; the topic stays marked until a round succeeds.
 *
 * What each topic's mirror looks like is kept in a {@link MirrorReports} map the status reads.
 */

import {
  COORDINATOR_CODES,
  type Coordinator,
  CoordinatorError,
  createKafkaClient,
  ErrorCodes,
  errorText,
  type GroupDescription,
  type GroupOffsets,
  KafkaErrorCodes,
  type KafkaSettings,
  kafkaDescribeGroup,
  kafkaError,
  kafkaErrorName,
  kafkaGroupCoordinator,
  kafkaGroupOffsets,
  kafkaOffsetCommit,
  type Logger,
  type MirrorGroupSettings,
  mapLimit,
  mirrorGroupOf,
  SluiceError,
  type TopicRecord,
} from '@sluice/shared';
import type { Counter } from 'prom-client';
import { mirrorPlan, mirrorRetryMs, offsetsAfter } from './group-mirror-plan.ts';

/** The Kafka requests the mirror makes (an interface, so that its rules are tested without a broker). */
export interface GroupMirrorKafka {
  coordinator(group: string): Promise<Coordinator>;
  describe(coordinator: Coordinator, group: string): Promise<GroupDescription>;
  offsets(
    coordinator: Coordinator,
    group: string,
    topic: string,
    partitions: number[],
  ): Promise<GroupOffsets>;
  commit(
    coordinator: Coordinator,
    group: string,
    topic: string,
    offsets: ReadonlyMap<number, bigint>,
  ): Promise<Map<number, number>>;
  close(): Promise<void>;
}

/** The mirror's requests on a Kafka client of their own. */
export function groupMirrorKafka(cfg: KafkaSettings): GroupMirrorKafka {
  const client = createKafkaClient(cfg);
  return {
    coordinator: (group) => kafkaGroupCoordinator(client, group),
    describe: (c, group) => kafkaDescribeGroup(client, c, group),
    offsets: (c, group, topic, partitions) => kafkaGroupOffsets(client, c, group, topic, partitions),
    commit: (c, group, topic, offsets) => kafkaOffsetCommit(client, c, group, topic, offsets),
    close: () => client.close(),
  };
}

/**
 * `following`: the group holds the committed offsets; `pending`: not written yet; `group-active`:
 * someone consumes with the group, so it is left alone; `group-ahead`: the group is beyond
 * Sluice in some partition (moved by someone else), left there; `failing`: Kafka refused or
 * did not answer (see `message`), retried with backoff.
 */
export type MirrorState = 'pending' | 'following' | 'group-active' | 'group-ahead' | 'failing';

export interface MirrorReport {
  group: string;
  state: MirrorState;
  /** What is wrong and what to do, for every state but `following` and `pending`. */
  message: string | null;
  /** When the group last held every committed offset the mirror wrote (ISO time). */
  mirroredAt: string | null;
  /** The group's offsets as last read or written, by partition. */
  offsets: Map<number, bigint>;
}

/** Each mirrored topic's report, by topic: written by the leader's mirror, read by the status. */
export type MirrorReports = Map<string, MirrorReport>;

/** Error codes with which Kafka says the group has members (a simple-group commit is refused). */
const LIVE_GROUP_CODES: ReadonlySet<number> = new Set([
  KafkaErrorCodes.UNKNOWN_MEMBER_ID,
  KafkaErrorCodes.ILLEGAL_GENERATION,
  KafkaErrorCodes.REBALANCE_IN_PROGRESS,
  KafkaErrorCodes.STALE_MEMBER_EPOCH,
]);

/** A topic's round ended without writing everything: not an error of Sluice, but reported. */
class Skipped extends Error {
  readonly state: 'group-active' | 'group-ahead';
  constructor(state: 'group-active' | 'group-ahead', message: string) {
    super(message);
    this.state = state;
  }
}

export interface GroupMirrorOptions {
  kafka: GroupMirrorKafka;
  /** The brokers, named in error messages. */
  kafkaBrokers: readonly string[];
  settings: MirrorGroupSettings;
  reports: MirrorReports;
  /** The registered topics as the leader last read them. */
  topics: () => readonly TopicRecord[];
  /** A topic's committed offsets by partition (the leader's cache: partitions it has started). */
  committed: (topic: string) => Map<number, bigint>;
  log: Logger;
  /** `sluice_group_mirror_failures_total`. */
  failures?: Counter<'topic' | 'reason'>;
  /** How often marked topics are written. @defaultValue 1000 */
  intervalMs?: number;
}

export class GroupMirror {
  readonly #o: GroupMirrorOptions;
  readonly #marked = new Set<string>();
  readonly #failures = new Map<string, number>();
  readonly #retryAt = new Map<string, number>();
  /** Each group's coordinator as last found; forgotten when a round of that group fails. */
  readonly #coordinators = new Map<string, Coordinator>();
  #timer: NodeJS.Timeout | null = null;
  #round: Promise<void> | null = null;
  #stopped = false;

  constructor(opts: GroupMirrorOptions) {
    this.#o = opts;
  }

  /** The tracker committed in `topic`: its group is written in the next round. */
  note(topic: string): void {
    this.#marked.add(topic);
  }

  /** Marks every registered topic (a new term does not know what the last one wrote) and starts the rounds. */
  start(): void {
    for (const t of this.#o.topics()) this.#marked.add(t.topic);
    const schedule = () => {
      if (this.#stopped) return;
      this.#timer = setTimeout(async () => {
        await this.round().catch((err) => this.#o.log.warn({ err }, 'group mirror round failed'));
        schedule();
      }, this.#o.intervalMs ?? 1_000);
    };
    schedule();
  }

  /** Stops the rounds, waits for the one running, and forgets the reports (a standby has none). */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#round?.catch(() => undefined);
    this.#o.reports.clear();
    await this.#o.kafka.close().catch(() => undefined);
  }

  /** One round: every marked topic whose retry time has come. Rounds never overlap. */
  round(nowMs = Date.now()): Promise<void> {
    if (this.#round) return this.#round;
    const run = this.#roundOnce(nowMs).finally(() => {
      this.#round = null;
    });
    this.#round = run;
    return run;
  }

  async #roundOnce(nowMs: number): Promise<void> {
    const records = new Map(this.#o.topics().map((r) => [r.topic, r]));
    const groups = new Map<string, string>();
    for (const r of records.values()) {
      // A stopped topic commits nothing, and after its Kafka topic was re-created its offsets
      // belong to the old incarnation: they must not reach a group of the new one.
      if (r.state === 'stopped') continue;
      const group = mirrorGroupOf(r, this.#o.settings);
      if (group) groups.set(r.topic, group);
    }
    // Topics gone, or no longer mirrored, or mirrored into another group: their report goes.
    for (const [topic, report] of this.#o.reports) {
      if (groups.get(topic) !== report.group) this.#o.reports.delete(topic);
    }
    const due: string[] = [];
    for (const topic of this.#marked) {
      if (!groups.has(topic)) this.#marked.delete(topic);
      else if ((this.#retryAt.get(topic) ?? 0) <= nowMs) due.push(topic);
    }
    await mapLimit(due, 4, async (topic) => {
      if (this.#stopped) return;
      // Unmarked before the requests: a commit during them marks the topic again.
      this.#marked.delete(topic);
      await this.#mirrorTopic(topic, groups.get(topic)!);
    });
  }

  async #mirrorTopic(topic: string, group: string): Promise<void> {
    const report = this.#reportOf(topic, group);
    const before = report.state;
    try {
      // Nothing started yet: the group stays as it is, the report `pending`.
      if (!(await this.#write(topic, group, report))) return;
      report.state = 'following';
      report.message = null;
      report.mirroredAt = new Date().toISOString();
      this.#failures.delete(topic);
      this.#retryAt.delete(topic);
      if (before !== 'following' && before !== 'pending') {
        this.#o.log.info({ topic, group }, 'group mirror following again');
      }
    } catch (err) {
      const skipped = err instanceof Skipped ? err : null;
      // NOT_COORDINATOR, a broker gone, …: the next round asks where the group lives again.
      if (!skipped) this.#coordinators.delete(group);
      const failed = skipped ? null : this.#failureOf(err, topic, group);
      report.state = skipped ? skipped.state : 'failing';
      report.message = skipped ? skipped.message : failed!.message;
      this.#o.failures?.inc({ topic, reason: skipped ? skipped.state : 'failed' });
      const n = (this.#failures.get(topic) ?? 0) + 1;
      this.#failures.set(topic, n);
      // A group ahead of Sluice is written again when a commit passes it; the others are retried.
      if (report.state !== 'group-ahead') {
        this.#marked.add(topic);
        this.#retryAt.set(topic, Date.now() + mirrorRetryMs(n));
      }
      if (report.state !== before || report.state === 'failing') {
        this.#o.log.warn(
          { topic, group, state: report.state, ...(failed ? { err: failed } : { reason: report.message }) },
          skipped ? 'group mirror skipped' : 'group mirror failed',
        );
      }
    }
  }

  /**
   * Reads the group, then writes what the monotonic guard allows. False when the topic has no
   * started partition (nothing to write); throws Skipped or a Kafka failure.
   */
  async #write(topic: string, group: string, report: MirrorReport): Promise<boolean> {
    const committed = this.#o.committed(topic);
    if (committed.size === 0) return false;
    const kafka = this.#o.kafka;
    // FindCoordinator once per group, not once a round: the coordinator moves only with the
    // group's partition of __consumer_offsets, and a request to a stale one fails the round.
    let coordinator = this.#coordinators.get(group);
    if (!coordinator) {
      coordinator = await kafka.coordinator(group);
      this.#coordinators.set(group, coordinator);
    }
    const described = await kafka.describe(coordinator, group);
    if (described.errorCode !== KafkaErrorCodes.NONE && COORDINATOR_CODES.has(described.errorCode)) {
      throw new CoordinatorError(group, described.errorCode, 'DescribeGroups');
    }
    if (described.members.length > 0) throw this.#live(topic, group, described.members);
    const partitions = [...committed.keys()];
    const current = await kafka.offsets(coordinator, group, topic, partitions);
    if (current.errorCode !== KafkaErrorCodes.NONE) {
      throw new CoordinatorError(group, current.errorCode, 'OffsetFetch');
    }
    const inGroup = new Map<number, bigint>();
    for (const [p, o] of current.partitions)
      if (o.errorCode === KafkaErrorCodes.NONE) inGroup.set(p, o.offset);
    const plan = mirrorPlan(committed, inGroup);
    const written = new Map<number, bigint>();
    // A term that ended meanwhile writes nothing: the next leader's mirror reads the group afresh.
    if (plan.write.size > 0 && !this.#stopped) {
      const codes = await kafka.commit(coordinator, group, topic, plan.write);
      for (const [p, offset] of plan.write) {
        const code = codes.get(p) ?? KafkaErrorCodes.COORDINATOR_NOT_AVAILABLE;
        if (code === KafkaErrorCodes.NONE) written.set(p, offset);
        else if (LIVE_GROUP_CODES.has(code)) throw this.#live(topic, group, []);
        else throw new CoordinatorError(group, code, `OffsetCommit of partition ${p}`);
      }
    }
    report.offsets = offsetsAfter(inGroup, written);
    if (plan.ahead.length > 0) {
      const shown = plan.ahead
        .map((a) => `partition ${a.partition} at ${a.groupOffset} (Sluice committed ${a.committedOffset})`)
        .join(', ');
      throw new Skipped(
        'group-ahead',
        `consumer group "${group}" is ahead of Sluice in ${shown}; someone else moved it, and Sluice never moves a group backwards: reset or delete the group (kafka-consumer-groups.sh --reset-offsets / --delete) or set the topic's mirrorGroup to another name`,
      );
    }
    return true;
  }

  #live(topic: string, group: string, members: GroupDescription['members']): Skipped {
    const who =
      members.length > 0 ? ` (${members.map((m) => `${m.clientId}@${m.clientHost}`).join(', ')})` : '';
    return new Skipped(
      'group-active',
      `consumer group "${group}" has active members${who}, so Sluice does not write topic "${topic}"'s offsets into it; stop that consumer, or set the topic's mirrorGroup to a name nobody consumes with`,
    );
  }

  #failureOf(err: unknown, topic: string, group: string): SluiceError {
    const action = `mirror the committed offsets of topic "${topic}" into consumer group "${group}"`;
    const code = err instanceof CoordinatorError ? err.kafkaCode : null;
    if (
      code === KafkaErrorCodes.GROUP_AUTHORIZATION_FAILED ||
      code === KafkaErrorCodes.TOPIC_AUTHORIZATION_FAILED
    ) {
      return new SluiceError(
        ErrorCodes.KAFKA,
        `Kafka at ${this.#o.kafkaBrokers.join(',')} refused to ${action}: ${kafkaErrorName(code)}; grant the Sluice principal READ and DESCRIBE on the group (and READ on the topic), or set SLUICE_MIRROR_GROUP_OFFSETS=false`,
        { retryable: true, cause: err },
      );
    }
    if (err instanceof CoordinatorError) {
      return new SluiceError(
        ErrorCodes.KAFKA,
        `Kafka at ${this.#o.kafkaBrokers.join(',')} failed to ${action}: ${errorText(err)}; retried`,
        {
          retryable: true,
          cause: err,
        },
      );
    }
    return kafkaError(err, { kafkaBrokers: [...this.#o.kafkaBrokers] }, action);
  }

  #reportOf(topic: string, group: string): MirrorReport {
    let r = this.#o.reports.get(topic);
    if (!r || r.group !== group) {
      r = { group, state: 'pending', message: null, mirroredAt: null, offsets: new Map() };
      this.#o.reports.set(topic, r);
    }
    return r;
  }
}
