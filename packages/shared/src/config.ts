/**
 * Configuration: read once from the environment, validated with every problem reported at
 * once by its setting's name, then frozen. Nothing else in Sluice reads `process.env`.
 *
 * Settings for the other program are ignored, so one ConfigMap can serve both.
 */
import { hostname } from 'node:os';
import { ErrorCodes, type Problem, ValidationError } from './errors.ts';
import { workerIdProblem } from './zk-layout.ts';

export interface S3Settings {
  /** Empty for AWS itself. */
  endpoint: string;
  region: string;
  forcePathStyle: boolean;
  /** Send `If-None-Match: *` so that the first complete write of a key wins. @defaultValue true */
  conditionalWrites: boolean;
  /** Requests per S3 call before giving up (SDK retries with backoff and jitter). @defaultValue 6 */
  maxAttempts: number;
}

export interface CommonConfig {
  kafkaBrokers: string[];
  /** Kafka client id. @defaultValue `sluice` */
  kafkaClientId: string;
  kafkaSsl: boolean;
  kafkaSasl: {
    mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
    username: string;
    password: string;
  } | null;
  zookeeper: string;
  /** `user:password` for a ZooKeeper digest ACL, or empty. */
  zookeeperDigest: string;
  zkSessionTimeoutMs: number;
  redisUrl: string;
  /** Redis key prefix of the BullMQ queue (several Sluice installations may share a Redis). @defaultValue `sluice` */
  queuePrefix: string;
  s3: S3Settings;
  httpHost: string;
  httpPort: number;
  /** Bearer tokens accepted for changes; empty: no change is allowed. */
  apiTokens: string[];
  /** Require a token for reads too. @defaultValue false */
  protectReads: boolean;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Unique per process: `{host}-{pid}` unless set. */
  id: string;
  host: string;
}

export interface MasterConfig extends CommonConfig {
  /** Address other masters and operators reach this one at. @defaultValue `http://{host}:{port}` */
  advertisedUrl: string;
  /** How often the leader plans and tracks. @defaultValue 1000 */
  planIntervalMs: number;
  /** An active range with no progress for this long is requeued. @defaultValue 60000 */
  stallTimeoutMs: number;
  /** Most ranges in flight per partition. @defaultValue 4 */
  maxInFlightPerPartition: number;
  /** How often the leader checks that every unfinished range has its job in Redis. @defaultValue 15000 */
  reconcileIntervalMs: number;
  /** How often the leader audits each topic's new commit records (cheap; `sluice audit` does the full check). @defaultValue 5 minutes */
  auditIntervalMs: number;
  /** How often the leader looks for hour (or day) folders to finalize with `_SUCCESS`. @defaultValue 1 minute */
  finalizeIntervalMs: number;
  /** Incomplete multipart uploads older than this are aborted. @defaultValue 1 hour */
  abandonedUploadAgeMs: number;
  /** Tries of one range attempt (BullMQ job attempts) before the range is marked failed for the leader to requeue. @defaultValue 3 */
  jobAttempts: number;
}

export interface WorkerConfig extends CommonConfig {
  concurrency: number;
  /** Multipart part size; with `uploadQueueSize`, bounds upload memory per object. @defaultValue 8 MiB */
  partSizeBytes: number;
  /** Parts of one object uploading at once. @defaultValue 2 */
  uploadQueueSize: number;
  /** Most bytes one Kafka fetch may return. @defaultValue 8 MiB */
  fetchMaxBytes: number;
  /** How often an active range reports progress to ZooKeeper. @defaultValue 5000 */
  progressIntervalMs: number;
  /** How long SIGTERM lets ranges in hand finish before aborting them (they are requeued). @defaultValue 25000 */
  shutdownGraceMs: number;
  /** On a retry of a completed range, re-read it and compare with its commit record. @defaultValue false */
  verifyOnRetry: boolean;
}

type Env = Record<string, string | undefined>;

class Reader {
  readonly problems: Problem[] = [];
  readonly env: Env;
  constructor(env: Env) {
    this.env = env;
  }

  str(name: string, def?: string): string {
    const v = this.env[name];
    if (v === undefined || v === '') {
      if (def === undefined) {
        this.problems.push({ path: name, message: 'is required but not set' });
        return '';
      }
      return def;
    }
    return v.trim();
  }

  int(name: string, def: number, min: number, max: number): number {
    const raw = this.env[name];
    if (raw === undefined || raw === '') return def;
    if (!/^\d+$/.test(raw.trim())) {
      this.problems.push({
        path: name,
        message: `must be a whole number between ${min} and ${max}, got "${raw}"`,
      });
      return def;
    }
    const n = Number(raw.trim());
    if (n < min || n > max) {
      this.problems.push({ path: name, message: `must be between ${min} and ${max}, got ${n}` });
      return def;
    }
    return n;
  }

  bool(name: string, def: boolean): boolean {
    const raw = this.env[name];
    if (raw === undefined || raw === '') return def;
    const v = raw.trim().toLowerCase();
    if (['1', 'true', 'yes'].includes(v)) return true;
    if (['0', 'false', 'no'].includes(v)) return false;
    this.problems.push({ path: name, message: `must be one of 1, true, yes, 0, false, no; got "${raw}"` });
    return def;
  }

  oneOf<T extends string>(name: string, def: T, values: readonly T[]): T {
    const raw = this.env[name];
    if (raw === undefined || raw === '') return def;
    if (!(values as readonly string[]).includes(raw.trim())) {
      this.problems.push({ path: name, message: `must be one of ${values.join(', ')}; got "${raw}"` });
      return def;
    }
    return raw.trim() as T;
  }
}

function hostPortList(r: Reader, name: string, value: string): string[] {
  const list = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const hp of list) {
    if (!/^[A-Za-z0-9.[\]:_-]+:\d{1,5}$/.test(hp)) {
      r.problems.push({
        path: name,
        message: `"${hp}" is not host:port (example: kafka-0.kafka:9092,kafka-1.kafka:9092)`,
      });
    }
  }
  return list;
}

function common(r: Reader, program: 'master' | 'worker', defaultPort: number): CommonConfig {
  const host = r.str('SLUICE_HOSTNAME', hostname());
  const id = r.str(program === 'master' ? 'SLUICE_MASTER_ID' : 'SLUICE_WORKER_ID', `${host}-${process.pid}`);
  const idProblem = workerIdProblem(id);
  if (idProblem)
    r.problems.push({
      path: program === 'master' ? 'SLUICE_MASTER_ID' : 'SLUICE_WORKER_ID',
      message: idProblem,
    });

  const brokers = hostPortList(r, 'SLUICE_KAFKA_BROKERS', r.str('SLUICE_KAFKA_BROKERS'));
  const zk = r.str('SLUICE_ZOOKEEPER');
  if (zk) {
    const [hosts, chroot] = [zk.split('/')[0]!, zk.includes('/') ? zk.slice(zk.indexOf('/')) : ''];
    hostPortList(r, 'SLUICE_ZOOKEEPER', hosts);
    if (chroot && !/^(\/[A-Za-z0-9._-]+)+\/?$/.test(chroot)) {
      r.problems.push({
        path: 'SLUICE_ZOOKEEPER',
        message: `chroot "${chroot}" must be a path like /sluice-prod`,
      });
    }
  }
  const redisUrl = r.str('SLUICE_REDIS_URL');
  if (redisUrl && !/^rediss?:\/\//.test(redisUrl)) {
    r.problems.push({
      path: 'SLUICE_REDIS_URL',
      message: 'must start with redis:// or rediss:// (example: redis://redis:6379)',
    });
  }
  const endpoint = r.str('SLUICE_S3_ENDPOINT', '');
  if (endpoint && !/^https?:\/\/[^/\s]+\/?$/.test(endpoint)) {
    r.problems.push({
      path: 'SLUICE_S3_ENDPOINT',
      message: `must be http(s)://host[:port] or empty for AWS; got "${endpoint}"`,
    });
  }
  const saslMech = r.oneOf('SLUICE_KAFKA_SASL_MECHANISM', 'none', [
    'none',
    'plain',
    'scram-sha-256',
    'scram-sha-512',
  ]);
  const sasl =
    saslMech === 'none'
      ? null
      : {
          mechanism: saslMech,
          username: r.str('SLUICE_KAFKA_SASL_USERNAME'),
          password: r.str('SLUICE_KAFKA_SASL_PASSWORD'),
        };
  const queuePrefix = r.str('SLUICE_QUEUE_PREFIX', 'sluice');
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(queuePrefix)) {
    r.problems.push({
      path: 'SLUICE_QUEUE_PREFIX',
      message: 'must be 1 to 64 of letters, digits, ".", "_" and "-"',
    });
  }
  return {
    kafkaBrokers: brokers,
    kafkaClientId: r.str('SLUICE_KAFKA_CLIENT_ID', 'sluice'),
    kafkaSsl: r.bool('SLUICE_KAFKA_SSL', false),
    kafkaSasl: sasl,
    zookeeper: zk,
    zookeeperDigest: r.str('SLUICE_ZOOKEEPER_DIGEST', ''),
    zkSessionTimeoutMs: r.int('SLUICE_ZK_SESSION_TIMEOUT_MS', 10_000, 1_000, 120_000),
    redisUrl,
    queuePrefix,
    s3: {
      endpoint: endpoint.replace(/\/$/, ''),
      region: r.str('SLUICE_S3_REGION', 'us-east-1'),
      forcePathStyle: r.bool('SLUICE_S3_FORCE_PATH_STYLE', false),
      conditionalWrites: r.bool('SLUICE_S3_CONDITIONAL_WRITES', true),
      maxAttempts: r.int('SLUICE_S3_MAX_ATTEMPTS', 6, 1, 50),
    },
    httpHost: r.str('SLUICE_HTTP_HOST', '0.0.0.0'),
    httpPort: r.int('SLUICE_HTTP_PORT', defaultPort, 0, 65535),
    apiTokens: r
      .str('SLUICE_API_TOKEN', '')
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean),
    protectReads: r.bool('SLUICE_PROTECT_READS', false),
    logLevel: r.oneOf('SLUICE_LOG_LEVEL', 'info', [
      'fatal',
      'error',
      'warn',
      'info',
      'debug',
      'trace',
      'silent',
    ]),
    id,
    host,
  };
}

function finish<T extends object>(r: Reader, value: T, program: string): Readonly<T> {
  if (r.problems.length > 0) {
    const err = new ValidationError(r.problems, ErrorCodes.CONFIG);
    err.message = `sluice-${program} cannot start; fix these settings:\n${r.problems.map((p) => `  - ${p.path} ${p.message}`).join('\n')}`;
    throw err;
  }
  return Object.freeze(value);
}

export function loadMasterConfig(env: Env = process.env): Readonly<MasterConfig> {
  const r = new Reader(env);
  const c = common(r, 'master', 8080);
  const stall = r.int('SLUICE_STALL_TIMEOUT_MS', 60_000, 1_000, 3_600_000);
  return finish(
    r,
    {
      ...c,
      advertisedUrl: r.str('SLUICE_ADVERTISED_URL', `http://${c.host}:${c.httpPort}`).replace(/\/$/, ''),
      planIntervalMs: r.int('SLUICE_PLAN_INTERVAL_MS', 1_000, 50, 60_000),
      stallTimeoutMs: stall,
      maxInFlightPerPartition: r.int('SLUICE_MAX_IN_FLIGHT_PER_PARTITION', 4, 1, 1_000),
      reconcileIntervalMs: r.int('SLUICE_RECONCILE_INTERVAL_MS', 15_000, 500, 3_600_000),
      auditIntervalMs: r.int('SLUICE_AUDIT_INTERVAL_MS', 300_000, 1_000, 86_400_000),
      finalizeIntervalMs: r.int('SLUICE_FINALIZE_INTERVAL_MS', 60_000, 500, 3_600_000),
      abandonedUploadAgeMs: r.int('SLUICE_ABANDONED_UPLOAD_AGE_MS', 3_600_000, 10_000, 30 * 86_400_000),
      jobAttempts: r.int('SLUICE_JOB_ATTEMPTS', 3, 1, 100),
    },
    'master',
  );
}

export function loadWorkerConfig(env: Env = process.env): Readonly<WorkerConfig> {
  const r = new Reader(env);
  const c = common(r, 'worker', 8081);
  return finish(
    r,
    {
      ...c,
      concurrency: r.int('SLUICE_WORKER_CONCURRENCY', 2, 1, 256),
      partSizeBytes: r.int(
        'SLUICE_WORKER_PART_SIZE_BYTES',
        8 * 1024 * 1024,
        5 * 1024 * 1024,
        512 * 1024 * 1024,
      ),
      uploadQueueSize: r.int('SLUICE_WORKER_UPLOAD_QUEUE_SIZE', 2, 1, 64),
      fetchMaxBytes: r.int('SLUICE_WORKER_FETCH_MAX_BYTES', 8 * 1024 * 1024, 64 * 1024, 256 * 1024 * 1024),
      progressIntervalMs: r.int('SLUICE_WORKER_PROGRESS_INTERVAL_MS', 5_000, 100, 600_000),
      shutdownGraceMs: r.int('SLUICE_WORKER_SHUTDOWN_GRACE_MS', 25_000, 0, 3_600_000),
      verifyOnRetry: r.bool('SLUICE_VERIFY_ON_RETRY', false),
    },
    'worker',
  );
}

/** Every setting either program reads, for documentation checks. */
export const SETTINGS = [
  'SLUICE_KAFKA_BROKERS',
  'SLUICE_KAFKA_CLIENT_ID',
  'SLUICE_KAFKA_SSL',
  'SLUICE_KAFKA_SASL_MECHANISM',
  'SLUICE_KAFKA_SASL_USERNAME',
  'SLUICE_KAFKA_SASL_PASSWORD',
  'SLUICE_ZOOKEEPER',
  'SLUICE_ZOOKEEPER_DIGEST',
  'SLUICE_ZK_SESSION_TIMEOUT_MS',
  'SLUICE_REDIS_URL',
  'SLUICE_QUEUE_PREFIX',
  'SLUICE_S3_ENDPOINT',
  'SLUICE_S3_REGION',
  'SLUICE_S3_FORCE_PATH_STYLE',
  'SLUICE_S3_CONDITIONAL_WRITES',
  'SLUICE_S3_MAX_ATTEMPTS',
  'SLUICE_HTTP_HOST',
  'SLUICE_HTTP_PORT',
  'SLUICE_API_TOKEN',
  'SLUICE_PROTECT_READS',
  'SLUICE_LOG_LEVEL',
  'SLUICE_HOSTNAME',
  'SLUICE_MASTER_ID',
  'SLUICE_WORKER_ID',
  'SLUICE_ADVERTISED_URL',
  'SLUICE_PLAN_INTERVAL_MS',
  'SLUICE_STALL_TIMEOUT_MS',
  'SLUICE_MAX_IN_FLIGHT_PER_PARTITION',
  'SLUICE_RECONCILE_INTERVAL_MS',
  'SLUICE_ABANDONED_UPLOAD_AGE_MS',
  'SLUICE_AUDIT_INTERVAL_MS',
  'SLUICE_FINALIZE_INTERVAL_MS',
  'SLUICE_WORKER_CONCURRENCY',
  'SLUICE_WORKER_PART_SIZE_BYTES',
  'SLUICE_WORKER_UPLOAD_QUEUE_SIZE',
  'SLUICE_WORKER_FETCH_MAX_BYTES',
  'SLUICE_WORKER_PROGRESS_INTERVAL_MS',
  'SLUICE_WORKER_SHUTDOWN_GRACE_MS',
  'SLUICE_JOB_ATTEMPTS',
  'SLUICE_VERIFY_ON_RETRY',
] as const;
