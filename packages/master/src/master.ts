/**
 * The master: config → clients → election → leader term → HTTP.
 *
 * Every master serves the API; the one that wins the election also runs a {@link LeaderTerm}
 * (planning, tracking, supervising). A ZooKeeper session is one election: when the session is
 * lost, or a fenced write shows that the epoch is over, the term stops at once, the session is
 * closed, and a new session stands for election again (node-zookeeper-client never recovers
 * an expired session).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import {
  BASE_PATHS,
  checkKafkaAccess,
  createKafkaAdmin,
  createLogger,
  createRedis,
  createS3Client,
  type KafkaAdmin,
  type Logger,
  type MasterConfig,
  RANGE_QUEUE_NAME,
  type RangeJobData,
  redactUrl,
  SLUICE_VERSION,
  type TopicsFileEntry,
  ZkSession,
} from '@sluice/shared';
import { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { buildApi } from './api/index.ts';
import { groupMirrorKafka, type MirrorReports } from './kafka/group-mirror.ts';
import { LeaderElection } from './leadership/leader-election.ts';
import { LeaderTerm } from './leadership/leader-term.ts';
import { MasterMetrics } from './status/metrics.ts';
import { readTopicsFileReport, writeTopicsFileReport } from './status/topics-file-status.ts';
import { OutputStore } from './stores/output-store.ts';
import { type DestinationCheck, destinationProbe } from './topics/destination-probe.ts';
import { PatternDiscovery, type PatternReports } from './topics/pattern-discovery.ts';
import { apiConverger } from './topics/topics-file-converger.ts';
import { TopicsFileLoop } from './topics/topics-file-loop.ts';

export interface StartMasterOptions {
  /** Root logger; default: pino at the configured level. */
  log?: Logger;
  /** Kafka admin; default: {@link createKafkaAdmin} (closed on stop only when made here). */
  kafka?: KafkaAdmin;
  /** S3 client for aborting abandoned uploads; default: {@link createS3Client}; null: never abort. */
  s3?: S3Client | null;
}

export interface RunningMaster {
  /** Stops the leader's passes, the HTTP server, the queue and the ZooKeeper session. */
  stop(): Promise<void>;
  /** Where the HTTP API listens, e.g. `http://127.0.0.1:8080`. */
  url: string;
  isLeader(): boolean;
}

/** Backoff between attempts to open a new ZooKeeper session. */
const RENEW_DELAYS_MS = [250, 500, 1_000, 2_000, 5_000];

class Master {
  readonly #cfg: Readonly<MasterConfig>;
  readonly #log: Logger;
  readonly #metrics = new MasterMetrics();
  /** The group mirror's reports: written by this master's leader terms, read by its status. */
  readonly #mirrorReports: MirrorReports = new Map();
  /** The topic patterns' discovery reports: written while this master leads, read by its API. */
  readonly #patternReports: PatternReports = new Map();
  readonly #kafka: KafkaAdmin;
  readonly #ownsKafka: boolean;
  readonly #redis: Redis;
  readonly #queue: Queue<RangeJobData>;
  readonly #s3: S3Client | null;
  readonly #ownsS3: boolean;
  /** The API's destination probe needs a client also when `s3: null` turned the aborts off. */
  readonly #probeS3: S3Client;
  #session: ZkSession | null = null;
  #election: LeaderElection | null = null;
  #term: LeaderTerm | null = null;
  /** The leader's topics-file loop (SLUICE_TOPICS_FILE); it changes topics through #app. */
  #topicsFile: TopicsFileLoop<TopicsFileEntry> | null = null;
  /** The leader's topic-pattern discovery; it registers through the API's path, not the term's. */
  #discovery: PatternDiscovery | null = null;
  readonly #checkDestination: DestinationCheck;
  #app: FastifyInstance | null = null;
  /** Resolves once #app is built: a leader elected before that starts its topics-file loop then. */
  #appIsBuilt: () => void = () => undefined;
  readonly #appBuilt = new Promise<void>((resolve) => {
    this.#appIsBuilt = resolve;
  });
  #stopping = false;
  #renewing = false;
  #renewWanted = false;
  url = '';

  constructor(cfg: Readonly<MasterConfig>, opts: StartMasterOptions) {
    this.#cfg = cfg;
    this.#log = opts.log ?? createLogger('sluice-master', cfg.logLevel, { master: cfg.id });
    this.#ownsKafka = !opts.kafka;
    this.#kafka = opts.kafka ?? createKafkaAdmin(cfg);
    this.#ownsS3 = opts.s3 === undefined;
    this.#s3 = opts.s3 === undefined ? createS3Client(cfg) : opts.s3;
    this.#probeS3 = this.#s3 ?? createS3Client(cfg);
    this.#checkDestination = destinationProbe(this.#probeS3, {
      conditionalWrites: cfg.s3.conditionalWrites,
      writer: cfg.id,
    });
    this.#redis = createRedis(cfg, 'queue');
    this.#redis.on('error', (err) => this.#log.debug({ err: err.message }, 'redis connection error'));
    this.#queue = new Queue<RangeJobData>(RANGE_QUEUE_NAME, {
      connection: this.#redis,
      prefix: cfg.queuePrefix,
    });
    this.#queue.on('error', (err) => this.#log.debug({ err: err.message }, 'queue error'));
  }

  get isLeader(): boolean {
    return this.#term !== null && (this.#election?.isLeader ?? false);
  }

  async start(): Promise<void> {
    this.#log.info(
      {
        version: SLUICE_VERSION,
        zookeeper: this.#cfg.zookeeper,
        redis: redactUrl(this.#cfg.redisUrl),
        queuePrefix: this.#cfg.queuePrefix,
        advertisedUrl: this.#cfg.advertisedUrl,
      },
      'master starting',
    );
    // Bad TLS or SASL settings stop the start here, saying which; an unreachable Kafka does not.
    if (this.#ownsKafka) {
      const unreachable = await checkKafkaAccess(this.#cfg);
      if (unreachable) this.#log.warn({ err: unreachable }, 'kafka did not answer at start; starting anyway');
    }
    await this.#openSession();
    this.#app = await buildApi({
      config: this.#cfg as MasterConfig,
      zk: () => this.#session!,
      kafka: this.#kafka,
      queue: this.#queue,
      election: {
        isLeader: () => this.isLeader,
        leader: async () => (this.#election ? this.#election.leaderInfo() : null),
      },
      metrics: this.#metrics.registry,
      masterMetrics: this.#metrics,
      mirrorReports: this.#mirrorReports,
      patternReports: this.#patternReports,
      log: this.#log,
      checkDestination: this.#checkDestination,
      ready: () => this.#ready(),
    });
    this.#appIsBuilt();
    await this.#app.listen({ host: this.#cfg.httpHost, port: this.#cfg.httpPort });
    const addr = this.#app.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : this.#cfg.httpPort;
    const host = ['0.0.0.0', '::', ''].includes(this.#cfg.httpHost) ? '127.0.0.1' : this.#cfg.httpHost;
    this.url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    this.#log.info({ url: this.url }, 'master listening');
  }

  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#log.info('master stopping');
    await this.#endTerm('shutting down');
    // The candidate goes first, so a standby takes over while this one drains its HTTP.
    await this.#election?.resign('shutting down');
    await this.#app?.close().catch((err) => this.#log.warn({ err }, 'http close failed'));
    await this.#queue.close().catch(() => undefined);
    await this.#redis.quit().catch(() => this.#redis.disconnect());
    await this.#session?.close().catch(() => undefined);
    if (this.#ownsKafka) await this.#kafka.close().catch(() => undefined);
    if (this.#ownsS3) this.#s3?.destroy();
    if (this.#s3 === null) this.#probeS3.destroy();
    this.#log.info('master stopped');
  }

  #ready(): { ok: boolean; reasons: string[] } {
    const reasons: string[] = [];
    if (this.#stopping) reasons.push('shutting down');
    if (!this.#session?.alive)
      reasons.push('ZooKeeper session lost; opening a new one (check SLUICE_ZOOKEEPER)');
    if (this.#redis.status !== 'ready') {
      reasons.push(
        `Redis connection is ${this.#redis.status} (${redactUrl(this.#cfg.redisUrl)}; check SLUICE_REDIS_URL)`,
      );
    }
    return { ok: reasons.length === 0, reasons };
  }

  /** A new session, the base paths, and a new election on it. */
  async #openSession(): Promise<void> {
    const session = await ZkSession.open({
      connect: this.#cfg.zookeeper,
      sessionTimeoutMs: this.#cfg.zkSessionTimeoutMs,
      digest: this.#cfg.zookeeperDigest,
    });
    try {
      for (const p of BASE_PATHS) await session.mkdirp(p);
    } catch (err) {
      await session.close();
      throw err;
    }
    if (this.#stopping) {
      await session.close();
      return;
    }
    this.#session = session;
    session.once('lost', (reason: string) => this.#onLost(session, reason));
    const election = new LeaderElection({
      session,
      identity: { id: this.#cfg.id, host: this.#cfg.host, httpAddress: this.#cfg.advertisedUrl },
      log: this.#log,
    });
    this.#election = election;
    election.on('elected', (epoch: number) => this.#lead(election, session, epoch));
    election.on('deposed', (reason: string) => void this.#stepDown(session, reason));
    this.#log.info({ sessionId: session.sessionId }, 'zookeeper session open');
    await election.start();
  }

  #lead(election: LeaderElection, session: ZkSession, epoch: number): void {
    if (this.#stopping || election !== this.#election) return;
    const term = new LeaderTerm({
      zk: session,
      epoch,
      config: this.#cfg,
      kafka: this.#kafka,
      queue: this.#queue,
      ...(this.#s3 ? { s3: this.#s3 } : {}),
      log: this.#log,
      metrics: this.#metrics,
      onFenced: (err) => void this.#stepDown(session, err.message),
      ...(this.#cfg.mirrorGroupOffsets
        ? {
            groupMirror: {
              kafka: () => groupMirrorKafka(this.#cfg),
              kafkaBrokers: this.#cfg.kafkaBrokers,
              settings: this.#cfg,
              reports: this.#mirrorReports,
            },
          }
        : {}),
    });
    this.#term = term;
    this.#metrics.leader(true);
    void term.start();
    if (this.#cfg.topicsFile) this.#convergeToFile(session);
    this.#discoverPatterns(session);
  }

  /** Starts this leader's topics-file loop, once the API it applies changes through is built. */
  #convergeToFile(session: ZkSession): void {
    const loop = new TopicsFileLoop({
      path: this.#cfg.topicsFile,
      intervalMs: this.#cfg.topicsFileIntervalMs,
      master: this.#cfg.id,
      converger: apiConverger({ app: () => this.#app, zk: () => session, config: this.#cfg }),
      reports: {
        read: () => readTopicsFileReport(session),
        write: (report) => writeTopicsFileReport(session, report),
      },
      log: this.#log,
      metrics: this.#metrics,
    });
    this.#topicsFile = loop;
    void this.#appBuilt.then(() => {
      if (this.#topicsFile === loop) loop.start();
    });
  }

  /** Starts this leader's topic-pattern discovery. */
  #discoverPatterns(session: ZkSession): void {
    this.#discovery = new PatternDiscovery({
      deps: {
        zk: () => session,
        kafka: this.#kafka,
        config: this.#cfg as MasterConfig,
        checkDestination: this.#checkDestination,
      },
      store: new OutputStore(this.#probeS3, { conditionalWrites: this.#cfg.s3.conditionalWrites }),
      log: this.#log.child({ component: 'pattern-discovery' }),
      metrics: this.#metrics,
      reports: this.#patternReports,
      intervalMs: this.#cfg.patternDiscoveryIntervalMs,
    });
    this.#discovery.start();
  }

  async #endTerm(reason: string): Promise<void> {
    const term = this.#term;
    const topicsFile = this.#topicsFile;
    this.#term = null;
    this.#topicsFile = null;
    this.#metrics.leader(false);
    const discovery = this.#discovery;
    this.#discovery = null;
    await Promise.all([topicsFile?.stop(), discovery?.stop()]);
    if (term) {
      if (this.#stopping) this.#log.info({ reason, epoch: term.epoch }, 'leading stopped');
      else this.#log.warn({ reason, epoch: term.epoch }, 'leading stopped');
      await term.stop();
    }
  }

  /**
   * Leadership is over while the session may live on (fenced, or `/sluice/leader`
   * rewritten): stop at once, and close the session so that a new one stands afresh.
   */
  async #stepDown(session: ZkSession, reason: string): Promise<void> {
    const ending = this.#endTerm(reason);
    if (session.alive && !this.#stopping) await session.close().catch(() => undefined);
    await ending;
  }

  #onLost(session: ZkSession, reason: string): void {
    if (this.#stopping || session !== this.#session) return;
    this.#log.warn({ reason }, 'zookeeper session lost');
    void this.#endTerm(`ZooKeeper session lost: ${reason}`);
    void this.#renew();
  }

  async #renew(): Promise<void> {
    // A loss during a renewal asks for one more round, so none is missed.
    this.#renewWanted = true;
    if (this.#renewing) return;
    this.#renewing = true;
    try {
      for (let i = 0; this.#renewWanted && !this.#stopping; i++) {
        this.#renewWanted = false;
        try {
          await this.#openSession();
          i = -1;
        } catch (err) {
          this.#renewWanted = true;
          const delay = RENEW_DELAYS_MS[Math.min(i, RENEW_DELAYS_MS.length - 1)]!;
          this.#log.warn({ err, retryInMs: delay }, 'cannot open a zookeeper session');
          await new Promise((r) => setTimeout(r, delay));
        }
      }
    } finally {
      this.#renewing = false;
    }
  }
}

/** Starts a master (API on every master; planning, tracking and supervising on the leader). */
export async function startMaster(
  config: Readonly<MasterConfig>,
  opts: StartMasterOptions = {},
): Promise<RunningMaster> {
  const m = new Master(config, opts);
  try {
    await m.start();
  } catch (err) {
    await m.stop().catch(() => undefined);
    throw err;
  }
  return { stop: () => m.stop(), url: m.url, isLeader: () => m.isLeader };
}
