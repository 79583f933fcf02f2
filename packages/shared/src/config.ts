/**
 * Configuration: every setting of both programs is one row of SETTING_TABLE below (its name,
 * the programs that use it, how it is parsed, its default and range, whether it is a secret,
 * its one-line meaning). The loaders, the secrets kept out of logs and answers, the warning
 * about unknown `SLUICE_*` names and the README's Configuration table (`npm run docs:config`)
 * all come from that table, so a setting is written once.
 *
 * Read once from the environment, validated with every problem reported at once by its
 * setting's name, then frozen. Nothing else in Sluice reads `process.env`. Settings for the
 * other program are ignored, so one ConfigMap can serve both.
 */
import { hostname } from 'node:os';
import { ErrorCodes, type Problem, ValidationError } from './errors.ts';
import { readSecretFile } from './secret-file.ts';
import { workerIdProblem } from './zk-layout.ts';

// The shapes the programs use. What each field means, its default and its range are in the
// row of SETTING_TABLE it is read from (see the loaders at the end of this file).

export interface S3Settings {
  endpoint: string;
  region: string;
  forcePathStyle: boolean;
  conditionalWrites: boolean;
  maxAttempts: number;
}

export type KafkaSaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512' | 'oauthbearer';

/** Paths of PEM files; '' where a file is not set. */
export interface KafkaSslFiles {
  ca: string;
  cert: string;
  key: string;
}

export interface CommonConfig {
  kafkaBrokers: string[];
  kafkaClientId: string;
  kafkaSsl: boolean;
  /** PEM files for TLS to the brokers; '' where not set (Node's CAs, no client certificate). */
  kafkaSslFiles: KafkaSslFiles;
  /** `username` and `password` are '' with `oauthbearer`, which sends the token in `tokenFile`. */
  kafkaSasl: { mechanism: KafkaSaslMechanism; username: string; password: string; tokenFile?: string } | null;
  zookeeper: string;
  zookeeperDigest: string;
  zkSessionTimeoutMs: number;
  redisUrl: string;
  /** PEM file of the CAs trusted for a `rediss://` URL; '' for Node's built-in list. */
  redisTlsCaFile: string;
  queuePrefix: string;
  s3: S3Settings;
  httpHost: string;
  httpPort: number;
  apiTokens: string[];
  protectReads: boolean;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  id: string;
  host: string;
}

export interface MasterConfig extends CommonConfig {
  advertisedUrl: string;
  planIntervalMs: number;
  stallTimeoutMs: number;
  maxInFlightPerPartition: number;
  reconcileIntervalMs: number;
  auditIntervalMs: number;
  finalizeIntervalMs: number;
  /** How often the leader lists Kafka's topics for the topic patterns. */
  patternDiscoveryIntervalMs: number;
  abandonedUploadAgeMs: number;
  jobAttempts: number;
  /** Replays running at once; a replay asked for beyond it is refused (429). */
  maxRunningReplays: number;
  /** Smallest `maxRangeMessages` a topic or replay request may ask for. */
  minRangeMessages: number;
  /** Smallest `maxRangeBytes` a topic or replay request may ask for. */
  minRangeBytes: number;
  /** The guards of the HTTP API (api/server-options.ts, api/request-guard.ts, api/audit-gate.ts). */
  http: HttpGuardSettings;
  /** Whether committed offsets are mirrored into Kafka consumer groups at all (group-mirror.ts). */
  mirrorGroupOffsets: boolean;
  /** A topic's mirror group, unless its config names one: this prefix and the topic's name. */
  mirrorGroupPrefix: string;
  /** The topics file the leader converges to (topics-file-loop.ts); '' when topics come only from the API. */
  topicsFile: string;
  /** How often the leader reads the topics file and compares its hash with the last one applied. */
  topicsFileIntervalMs: number;
}

/** Limits of the master's HTTP server against slow, flooding or misdirected clients. */
export interface HttpGuardSettings {
  metricsToken: string;
  allowedHosts: string[];
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  connectionTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxConnections: number;
  maxRequestsPerSocket: number;
  rateLimitPerMinute: number;
  auditCacheMs: number;
  auditMaxOffsets: number;
}

export interface WorkerConfig extends CommonConfig {
  concurrency: number;
  partSizeBytes: number;
  parquetRowGroupBytes: number;
  uploadQueueSize: number;
  fetchMaxBytes: number;
  progressIntervalMs: number;
  shutdownGraceMs: number;
  probeMaxIntervalMs: number;
  verifyOnRetry: boolean;
  schemaRegistry: SchemaRegistrySettings;
}

/** Where topics with `schema: { source: "registry" }` get their writer schemas (worker). */
export interface SchemaRegistrySettings {
  /** Root of the Confluent-compatible REST API; empty when no registry is configured. */
  url: string;
  /** Basic auth user; empty for none. */
  username: string;
  password: string;
  /** PEM file of the CAs that signed an `https://` registry's certificate; empty for Node's. */
  caFile: string;
}

export type Program = 'master' | 'worker';
type Env = Record<string, string | undefined>;

// --- the table -------------------------------------------------------------------------------

/** How a setting's text becomes its value; `blank` stands in when it is missing or wrong. */
export interface SettingParser<T> {
  readonly type: 'text' | 'list' | 'integer' | 'boolean' | 'choice';
  readonly min?: number;
  readonly max?: number;
  readonly values?: readonly string[];
  readonly blank: T;
  parse(raw: string): { value: T } | { problem: string };
}

/** What a default computed at start depends on. */
export interface DefaultContext {
  program: Program;
  host: string;
  pid: number;
  httpPort: number;
}

/** The default of a setting that must be set. */
export const REQUIRED: unique symbol = Symbol('required');

export interface Setting<T> {
  readonly name: `SLUICE_${string}`;
  /** The programs that use it (the README's program column). */
  readonly programs: 'both' | Program;
  readonly parser: SettingParser<T>;
  readonly default: T | ((c: DefaultContext) => T) | typeof REQUIRED;
  /** The README's default column, when the default is computed or better said in words. */
  readonly shownDefault?: string;
  /**
   * A secret is kept out of logs (by this path under `config`) and out of API answers (by
   * value: `secretParts` gives the texts to hide, longest first being the scrubber's job), and
   * may instead be read from the file its `{name}_FILE` setting names (see secretFileSetting).
   */
  readonly secret?: { readonly path: string; readonly parts?: (value: string) => string[] };
  /** One line, as the README's meaning column shows it. */
  readonly meaning: string;
}

const text: SettingParser<string> = {
  type: 'text',
  blank: '',
  parse: (raw) => ({ value: raw.trim() }),
};

const list: SettingParser<string[]> = {
  type: 'list',
  blank: [],
  parse: (raw) => ({
    value: raw
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean),
  }),
};

function integer(min: number, max: number): SettingParser<number> {
  return {
    type: 'integer',
    min,
    max,
    blank: min,
    parse(raw) {
      if (!/^\d+$/.test(raw.trim()))
        return { problem: `must be a whole number between ${min} and ${max}, got "${raw}"` };
      const n = Number(raw.trim());
      if (n < min || n > max) return { problem: `must be between ${min} and ${max}, got ${n}` };
      return { value: n };
    },
  };
}

const boolean: SettingParser<boolean> = {
  type: 'boolean',
  values: ['1', 'true', 'yes', '0', 'false', 'no'],
  blank: false,
  parse(raw) {
    const v = raw.trim().toLowerCase();
    if (['1', 'true', 'yes'].includes(v)) return { value: true };
    if (['0', 'false', 'no'].includes(v)) return { value: false };
    return { problem: `must be one of 1, true, yes, 0, false, no; got "${raw}"` };
  },
};

function choice<const V extends string>(values: readonly [V, ...V[]]): SettingParser<V> {
  return {
    type: 'choice',
    values,
    blank: values[0],
    parse(raw) {
      const v = raw.trim();
      return (values as readonly string[]).includes(v)
        ? { value: v as V }
        : { problem: `must be one of ${values.join(', ')}; got "${raw}"` };
    },
  };
}

/** Keeps each row's value type, so the loaders read typed values. */
const setting = <T>(s: Setting<T>): Setting<T> => s;

const MiB = 1024 * 1024;
const processId = (c: DefaultContext) => `${c.host}-${c.pid}`;
const afterColon = (s: string) => s.slice(s.indexOf(':') + 1);

/** `redis://user:pw@host` → the user-info and the password, URL-encoded and not. */
function redisUrlSecrets(url: string): string[] {
  const userinfo = /^[a-z]+:\/\/([^@/]*)@/i.exec(url)?.[1];
  if (!userinfo) return [];
  const password = afterColon(userinfo);
  const out = [userinfo, password];
  try {
    out.push(decodeURIComponent(password));
  } catch {
    // not URL-encoded
  }
  return out;
}

/** Every setting, in the order of the README's table. */
const S = {
  kafkaBrokers: setting({
    name: 'SLUICE_KAFKA_BROKERS',
    programs: 'both',
    parser: text,
    default: REQUIRED,
    meaning: 'bootstrap brokers, `host:port,host:port`',
  }),
  kafkaClientId: setting({
    name: 'SLUICE_KAFKA_CLIENT_ID',
    programs: 'both',
    parser: text,
    default: 'sluice',
    meaning: 'Kafka client id',
  }),
  kafkaSsl: setting({
    name: 'SLUICE_KAFKA_SSL',
    programs: 'both',
    parser: boolean,
    default: false,
    meaning: 'TLS to the brokers',
  }),
  kafkaSslCaFile: setting({
    name: 'SLUICE_KAFKA_SSL_CA_FILE',
    programs: 'both',
    parser: text,
    default: '',
    shownDefault: "empty (Node's CAs)",
    meaning: "PEM file of the CAs that signed the brokers' certificates (with `SLUICE_KAFKA_SSL=true`)",
  }),
  kafkaSslCertFile: setting({
    name: 'SLUICE_KAFKA_SSL_CERT_FILE',
    programs: 'both',
    parser: text,
    default: '',
    meaning:
      'PEM client certificate for brokers that require one (mutual TLS), with `SLUICE_KAFKA_SSL_KEY_FILE`',
  }),
  kafkaSslKeyFile: setting({
    name: 'SLUICE_KAFKA_SSL_KEY_FILE',
    programs: 'both',
    parser: text,
    default: '',
    meaning:
      "PEM private key of that certificate, unencrypted (mount it from a Secret, readable only by Sluice's user)",
  }),
  kafkaSaslMechanism: setting<KafkaSaslMechanism | 'none'>({
    name: 'SLUICE_KAFKA_SASL_MECHANISM',
    programs: 'both',
    parser: choice(['none', 'plain', 'scram-sha-256', 'scram-sha-512', 'oauthbearer']),
    default: 'none',
    meaning: '`none`, `plain`, `scram-sha-256`, `scram-sha-512`, `oauthbearer`',
  }),
  kafkaSaslUsername: setting({
    name: 'SLUICE_KAFKA_SASL_USERNAME',
    programs: 'both',
    parser: text,
    default: REQUIRED,
    shownDefault: '',
    meaning: 'SASL user (with a mechanism)',
  }),
  kafkaSaslPassword: setting({
    name: 'SLUICE_KAFKA_SASL_PASSWORD',
    programs: 'both',
    parser: text,
    default: REQUIRED,
    shownDefault: '',
    secret: { path: 'kafkaSasl.password' },
    meaning: 'SASL password (secret)',
  }),
  kafkaSaslOauthbearerTokenFile: setting({
    name: 'SLUICE_KAFKA_SASL_OAUTHBEARER_TOKEN_FILE',
    programs: 'both',
    parser: text,
    default: REQUIRED,
    shownDefault: '',
    meaning:
      'file holding the OAUTHBEARER token (with `oauthbearer`), read again for each new connection so a sidecar can renew it',
  }),
  zookeeper: setting({
    name: 'SLUICE_ZOOKEEPER',
    programs: 'both',
    parser: text,
    default: REQUIRED,
    meaning: 'connect string, chroot allowed: `zk-0:2181,zk-1:2181/sluice-prod`',
  }),
  zookeeperDigest: setting({
    name: 'SLUICE_ZOOKEEPER_DIGEST',
    programs: 'both',
    parser: text,
    default: '',
    secret: { path: 'zookeeperDigest', parts: (d) => [d, afterColon(d)] },
    meaning:
      '`user:password` for ZooKeeper digest auth (secret); required unless ZooKeeper is on loopback or `SLUICE_ZOOKEEPER_INSECURE` is set',
  }),
  zookeeperInsecure: setting({
    name: 'SLUICE_ZOOKEEPER_INSECURE',
    programs: 'both',
    parser: boolean,
    default: false,
    meaning:
      'start without `SLUICE_ZOOKEEPER_DIGEST` although ZooKeeper is not on loopback (its nodes are then world-writable: never in production)',
  }),
  zkSessionTimeoutMs: setting({
    name: 'SLUICE_ZK_SESSION_TIMEOUT_MS',
    programs: 'both',
    parser: integer(1_000, 120_000),
    default: 10_000,
    meaning: 'ZooKeeper session timeout; sets how fast a dead worker or master is noticed',
  }),
  redisUrl: setting({
    name: 'SLUICE_REDIS_URL',
    programs: 'both',
    parser: text,
    default: REQUIRED,
    secret: { path: 'redisUrl', parts: redisUrlSecrets },
    meaning: '`redis://[:password@]host:6379[/db]` or `rediss://` for TLS',
  }),
  redisTlsCaFile: setting({
    name: 'SLUICE_REDIS_TLS_CA_FILE',
    programs: 'both',
    parser: text,
    default: '',
    shownDefault: "empty (Node's CAs)",
    meaning: "PEM file of the CAs that signed Redis's certificate, for a `rediss://` URL",
  }),
  queuePrefix: setting({
    name: 'SLUICE_QUEUE_PREFIX',
    programs: 'both',
    parser: text,
    default: 'sluice',
    meaning: 'Redis key prefix of the queue (several installations may share a Redis)',
  }),
  s3Endpoint: setting({
    name: 'SLUICE_S3_ENDPOINT',
    programs: 'both',
    parser: text,
    default: '',
    shownDefault: 'empty (AWS)',
    meaning: 'S3-compatible endpoint, `http(s)://host:port`',
  }),
  s3Region: setting({
    name: 'SLUICE_S3_REGION',
    programs: 'both',
    parser: text,
    default: 'us-east-1',
    meaning: 'region',
  }),
  s3ForcePathStyle: setting({
    name: 'SLUICE_S3_FORCE_PATH_STYLE',
    programs: 'both',
    parser: boolean,
    default: false,
    meaning: 'path-style requests (`1/true/yes`, `0/false/no`)',
  }),
  s3ConditionalWrites: setting({
    name: 'SLUICE_S3_CONDITIONAL_WRITES',
    programs: 'both',
    parser: boolean,
    default: true,
    meaning: 'send `If-None-Match: *` so the first complete write of a key wins',
  }),
  s3MaxAttempts: setting({
    name: 'SLUICE_S3_MAX_ATTEMPTS',
    programs: 'both',
    parser: integer(1, 50),
    default: 6,
    meaning: 'attempts per S3 call (exponential backoff with jitter)',
  }),
  httpHost: setting({
    name: 'SLUICE_HTTP_HOST',
    programs: 'both',
    parser: text,
    default: '0.0.0.0',
    meaning: 'HTTP listen address',
  }),
  httpPort: setting({
    name: 'SLUICE_HTTP_PORT',
    programs: 'both',
    parser: integer(0, 65535),
    default: (c) => (c.program === 'master' ? 8080 : 8081),
    shownDefault: '`8080` master, `8081` worker',
    meaning: 'HTTP port (health, metrics; the API on the master)',
  }),
  apiTokens: setting({
    name: 'SLUICE_API_TOKEN',
    programs: 'master',
    parser: list,
    default: [],
    shownDefault: 'empty',
    secret: { path: 'apiTokens' },
    meaning:
      'comma-separated bearer tokens accepted for changes (rotate by listing old and new); each at least 32 characters and no placeholder (`openssl rand -hex 32`)',
  }),
  protectReads: setting({
    name: 'SLUICE_PROTECT_READS',
    programs: 'master',
    parser: boolean,
    default: false,
    meaning: 'require a token for reads too (health checks stay open); audits need one whatever this says',
  }),
  metricsToken: setting({
    name: 'SLUICE_METRICS_TOKEN',
    programs: 'master',
    parser: text,
    default: '',
    shownDefault: 'empty',
    secret: { path: 'http.metricsToken' },
    meaning:
      'bearer token accepted for `GET /metrics` only (for Prometheus when `SLUICE_PROTECT_READS` is on); rules as for `SLUICE_API_TOKEN`',
  }),
  allowedHosts: setting({
    name: 'SLUICE_ALLOWED_HOSTS',
    programs: 'master',
    parser: list,
    default: [],
    shownDefault: 'empty (any)',
    meaning:
      'comma-separated `Host` names (optionally `name:port`) the API answers; others get 421 (closes DNS rebinding); probes and `/metrics` answer any Host',
  }),
  httpRequestTimeoutMs: setting({
    name: 'SLUICE_HTTP_REQUEST_TIMEOUT_MS',
    programs: 'master',
    parser: integer(1_000, 3_600_000),
    default: 30_000,
    meaning: 'a request (headers and body) must arrive within this, or it gets 408 and the connection closes',
  }),
  httpHeadersTimeoutMs: setting({
    name: 'SLUICE_HTTP_HEADERS_TIMEOUT_MS',
    programs: 'master',
    parser: integer(1_000, 3_600_000),
    default: 10_000,
    meaning: "a request's headers must arrive within this (at most the request timeout)",
  }),
  httpConnectionTimeoutMs: setting({
    name: 'SLUICE_HTTP_CONNECTION_TIMEOUT_MS',
    programs: 'master',
    parser: integer(1_000, 3_600_000),
    default: 300_000,
    meaning: 'a connection silent this long is closed (an audit in progress keeps its connection)',
  }),
  httpKeepAliveTimeoutMs: setting({
    name: 'SLUICE_HTTP_KEEP_ALIVE_TIMEOUT_MS',
    programs: 'master',
    parser: integer(100, 600_000),
    default: 5_000,
    meaning: 'an idle kept-alive connection is closed after this',
  }),
  httpMaxConnections: setting({
    name: 'SLUICE_HTTP_MAX_CONNECTIONS',
    programs: 'master',
    parser: integer(1, 1_000_000),
    default: 1_000,
    meaning: 'connections the API holds at once; more are closed when they arrive',
  }),
  httpMaxRequestsPerSocket: setting({
    name: 'SLUICE_HTTP_MAX_REQUESTS_PER_SOCKET',
    programs: 'master',
    parser: integer(1, 1_000_000),
    default: 1_000,
    meaning: 'requests one connection may carry before it is closed',
  }),
  rateLimitPerMinute: setting({
    name: 'SLUICE_RATE_LIMIT_PER_MINUTE',
    programs: 'master',
    parser: integer(1, 1_000_000),
    default: 300,
    meaning:
      'changes and audits one client address may send per minute (a burst of as many, then evenly); more get 429 with `Retry-After`',
  }),
  auditCacheMs: setting({
    name: 'SLUICE_AUDIT_CACHE_MS',
    programs: 'master',
    parser: integer(0, 86_400_000),
    default: 60_000,
    meaning:
      'an audit answer is reused this long while nothing was committed (`cached: true`; `fresh=true` skips it); `0` turns it off',
  }),
  auditMaxOffsets: setting({
    name: 'SLUICE_AUDIT_MAX_OFFSETS',
    programs: 'master',
    parser: integer(1_000, Number.MAX_SAFE_INTEGER),
    default: 100_000_000,
    meaning: 'most offsets one API audit checks; a larger window is refused with how to narrow it',
  }),
  logLevel: setting<CommonConfig['logLevel']>({
    name: 'SLUICE_LOG_LEVEL',
    programs: 'both',
    parser: choice(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    default: 'info',
    meaning: '`fatal` … `trace`, `silent`',
  }),
  hostname: setting({
    name: 'SLUICE_HOSTNAME',
    programs: 'both',
    parser: text,
    default: () => hostname(),
    shownDefault: 'OS hostname',
    meaning: 'host name reported to ZooKeeper and in ids',
  }),
  masterId: setting({
    name: 'SLUICE_MASTER_ID',
    programs: 'master',
    parser: text,
    default: processId,
    shownDefault: '`{host}-{pid}`',
    meaning: "this master's id",
  }),
  workerId: setting({
    name: 'SLUICE_WORKER_ID',
    programs: 'worker',
    parser: text,
    default: processId,
    shownDefault: '`{host}-{pid}`',
    meaning: "this worker's id (letters, digits, `._-`)",
  }),
  advertisedUrl: setting({
    name: 'SLUICE_ADVERTISED_URL',
    programs: 'master',
    parser: text,
    default: (c) => `http://${c.host}:${c.httpPort}`,
    shownDefault: '`http://{host}:{port}`',
    meaning: 'where other masters and operators reach this master',
  }),
  planIntervalMs: setting({
    name: 'SLUICE_PLAN_INTERVAL_MS',
    programs: 'master',
    parser: integer(50, 60_000),
    default: 1_000,
    meaning: 'how often the leader plans and commits',
  }),
  stallTimeoutMs: setting({
    name: 'SLUICE_STALL_TIMEOUT_MS',
    programs: 'master',
    parser: integer(1_000, 3_600_000),
    default: 60_000,
    meaning: 'an active range without progress this long is requeued',
  }),
  maxInFlightPerPartition: setting({
    name: 'SLUICE_MAX_IN_FLIGHT_PER_PARTITION',
    programs: 'master',
    parser: integer(1, 1_000),
    default: 4,
    meaning: 'most ranges planned but not committed per partition',
  }),
  reconcileIntervalMs: setting({
    name: 'SLUICE_RECONCILE_INTERVAL_MS',
    programs: 'master',
    parser: integer(500, 3_600_000),
    default: 15_000,
    meaning: 'how often the leader checks every unfinished range still has its job in Redis',
  }),
  abandonedUploadAgeMs: setting({
    name: 'SLUICE_ABANDONED_UPLOAD_AGE_MS',
    programs: 'master',
    parser: integer(10_000, 30 * 86_400_000),
    default: 3_600_000,
    meaning: 'incomplete multipart uploads older than this are aborted',
  }),
  auditIntervalMs: setting({
    name: 'SLUICE_AUDIT_INTERVAL_MS',
    programs: 'master',
    parser: integer(1_000, 86_400_000),
    default: 300_000,
    meaning: "how often the leader audits each topic's newest commit records (a full audit once a day)",
  }),
  finalizeIntervalMs: setting({
    name: 'SLUICE_FINALIZE_INTERVAL_MS',
    programs: 'master',
    parser: integer(500, 3_600_000),
    default: 60_000,
    meaning: 'how often the leader looks for complete hour or day folders to mark with `_SUCCESS`',
  }),
  patternDiscoveryIntervalMs: setting({
    name: 'SLUICE_PATTERN_DISCOVERY_INTERVAL_MS',
    programs: 'master',
    parser: integer(1_000, 3_600_000),
    default: 30_000,
    meaning:
      "how often the leader lists Kafka's topics and registers those a topic pattern takes (a topic created later is registered within this time)",
  }),
  mirrorGroupOffsets: setting({
    name: 'SLUICE_MIRROR_GROUP_OFFSETS',
    programs: 'master',
    parser: boolean,
    default: true,
    meaning:
      "mirror each topic's committed offsets into a Kafka consumer group (a topic's `mirrorGroup` names it, `null` turns it off for that topic), so Kafka's lag tools see Sluice; false: no group is written",
  }),
  mirrorGroupPrefix: setting({
    name: 'SLUICE_MIRROR_GROUP_PREFIX',
    programs: 'master',
    parser: text,
    default: 'sluice.',
    meaning:
      "the mirror group of a topic whose config names none is this prefix and the topic's name (`sluice.orders`); up to 64 letters, digits, `.`, `_` and `-`",
  }),
  topicsFile: setting({
    name: 'SLUICE_TOPICS_FILE',
    programs: 'master',
    parser: text,
    default: '',
    shownDefault: 'not set',
    meaning:
      'a topics file (YAML or JSON, as `sluice apply -f` takes; e.g. a mounted ConfigMap) the leader converges to whenever its content changes; it deletes topics the file no longer names only when the file says `prune: true`',
  }),
  topicsFileIntervalMs: setting({
    name: 'SLUICE_TOPICS_FILE_INTERVAL_MS',
    programs: 'master',
    parser: integer(500, 3_600_000),
    default: 10_000,
    meaning:
      "how often the leader reads SLUICE_TOPICS_FILE and compares its content's hash with the last one it applied (a ConfigMap changes by a symlink swap, so the content is compared, not file events)",
  }),
  concurrency: setting({
    name: 'SLUICE_WORKER_CONCURRENCY',
    programs: 'worker',
    parser: integer(1, 256),
    default: 2,
    meaning: 'ranges one worker moves at once',
  }),
  partSizeBytes: setting({
    name: 'SLUICE_WORKER_PART_SIZE_BYTES',
    programs: 'worker',
    parser: integer(5 * MiB, 512 * MiB),
    default: 8 * MiB,
    meaning: 'multipart part size (5 MiB to 512 MiB)',
  }),
  parquetRowGroupBytes: setting({
    name: 'SLUICE_PARQUET_ROW_GROUP_BYTES',
    programs: 'worker',
    parser: integer(64 * 1024, 1024 * MiB),
    default: 16 * MiB,
    meaning:
      'Parquet topics: a row group is cut once its records reach this many bytes (values and keys, plus 1 KiB a row for what it costs in memory); each open Parquet object holds one, and encoding one holds about 3 times this at once (see the memory formula below)',
  }),
  uploadQueueSize: setting({
    name: 'SLUICE_WORKER_UPLOAD_QUEUE_SIZE',
    programs: 'worker',
    parser: integer(1, 64),
    default: 2,
    meaning: 'parts of one object uploading at once',
  }),
  fetchMaxBytes: setting({
    name: 'SLUICE_WORKER_FETCH_MAX_BYTES',
    programs: 'worker',
    parser: integer(64 * 1024, 256 * MiB),
    default: 8 * MiB,
    meaning: 'most bytes one Kafka fetch returns',
  }),
  progressIntervalMs: setting({
    name: 'SLUICE_WORKER_PROGRESS_INTERVAL_MS',
    programs: 'worker',
    parser: integer(100, 600_000),
    default: 5_000,
    meaning: 'how often an active range reports progress',
  }),
  shutdownGraceMs: setting({
    name: 'SLUICE_WORKER_SHUTDOWN_GRACE_MS',
    programs: 'worker',
    parser: integer(0, 3_600_000),
    default: 25_000,
    meaning:
      "on SIGTERM, how long ranges in hand may finish before they are aborted and requeued; keep it below the pod's termination grace period",
  }),
  probeMaxIntervalMs: setting({
    name: 'SLUICE_WORKER_PROBE_MAX_INTERVAL_MS',
    programs: 'worker',
    parser: integer(1_000, 3_600_000),
    default: 60_000,
    meaning:
      "after an attempt fails for a reason of the worker's own (S3 or Kafka refusing its credentials, an endpoint it cannot reach), it takes no jobs and probes again from 1 s, doubling up to this interval, until the probe passes",
  }),
  jobAttempts: setting({
    name: 'SLUICE_JOB_ATTEMPTS',
    programs: 'master',
    parser: integer(1, 100),
    default: 3,
    meaning:
      'tries of one range attempt (with exponential backoff from 1 s) before the range is marked failed; the leader then requeues it with backoff from 5 s to 5 min',
  }),
  maxRunningReplays: setting({
    name: 'SLUICE_MAX_RUNNING_REPLAYS',
    programs: 'master',
    parser: integer(1, 1000),
    default: 4,
    meaning:
      'replays running at once; POST /api/v1/replays beyond it is refused with 429 (wait for one to finish, cancel one, or raise this)',
  }),
  minRangeMessages: setting({
    name: 'SLUICE_MIN_RANGE_MESSAGES',
    programs: 'master',
    parser: integer(1, 1_000_000_000),
    default: 1000,
    meaning:
      'smallest `maxRangeMessages` a topic or replay may ask for: every range is a queue job, a ZooKeeper node and a commit record, so tiny ranges cost one job per handful of records',
  }),
  minRangeBytes: setting({
    name: 'SLUICE_MIN_RANGE_BYTES',
    programs: 'master',
    parser: integer(1024, 50 * 1024 * MiB),
    default: MiB,
    meaning: 'smallest `maxRangeBytes` a topic or replay may ask for, for the same reason',
  }),
  verifyOnRetry: setting({
    name: 'SLUICE_VERIFY_ON_RETRY',
    programs: 'worker',
    parser: boolean,
    default: false,
    meaning: 'when a retry finds a range done, re-read it and compare with its commit record',
  }),
  schemaRegistryUrl: setting({
    name: 'SLUICE_SCHEMA_REGISTRY_URL',
    programs: 'worker',
    parser: text,
    default: '',
    shownDefault: 'empty (none)',
    meaning:
      'root of a Schema Registry\'s Confluent-compatible REST API (`http(s)://host:8081`, Apicurio: `…/apis/ccompat/v7`), for topics with `schema: { source: "registry" }`',
  }),
  schemaRegistryUsername: setting({
    name: 'SLUICE_SCHEMA_REGISTRY_USERNAME',
    programs: 'worker',
    parser: text,
    default: '',
    meaning: 'basic auth user of the Schema Registry, with `SLUICE_SCHEMA_REGISTRY_PASSWORD`',
  }),
  schemaRegistryPassword: setting({
    name: 'SLUICE_SCHEMA_REGISTRY_PASSWORD',
    programs: 'worker',
    parser: text,
    default: '',
    secret: { path: 'schemaRegistry.password' },
    meaning: 'basic auth password of the Schema Registry (secret)',
  }),
  schemaRegistryCaFile: setting({
    name: 'SLUICE_SCHEMA_REGISTRY_CA_FILE',
    programs: 'worker',
    parser: text,
    default: '',
    shownDefault: "empty (Node's CAs)",
    meaning: "PEM file of the CAs that signed an `https://` Schema Registry's certificate",
  }),
};

/** Every setting either program reads, one row each, in the README's order. */
export const SETTING_TABLE: readonly Setting<unknown>[] = Object.values(S);

/**
 * The setting that names a file holding a secret setting's value: `SLUICE_API_TOKEN_FILE` for
 * `SLUICE_API_TOKEN`. Every secret has one, so a secret never has to be in the environment
 * (visible in the pod spec, to `docker inspect`, in `/proc/<pid>/environ`).
 */
export const secretFileSetting = (s: Setting<unknown>): `SLUICE_${string}_FILE` => `${s.name}_FILE`;

/** The names of SETTING_TABLE, and the `_FILE` names of its secrets. */
export const SETTINGS: readonly string[] = SETTING_TABLE.flatMap((s) =>
  s.secret ? [s.name, secretFileSetting(s)] : [s.name],
);

// --- reading ---------------------------------------------------------------------------------

/** A secret whose file could not be read, or that was set twice: already a problem. */
const UNREADABLE: unique symbol = Symbol('unreadable');

class Reader {
  readonly problems: Problem[] = [];
  readonly #env: Env;
  readonly ctx: DefaultContext;
  constructor(env: Env, program: Program) {
    this.#env = env;
    this.ctx = { program, host: '', pid: process.pid, httpPort: 0 };
  }

  problem(s: Setting<unknown>, message: string): void {
    this.problems.push({ path: s.name, message });
  }

  /**
   * The setting's value; its default when it is not set (an empty value is not set). A secret
   * is read from the file its `_FILE` setting names when that one is set instead.
   */
  get<T>(s: Setting<T>): T {
    const fallback = (): T => {
      if (s.default === REQUIRED) return s.parser.blank;
      return typeof s.default === 'function' ? (s.default as (c: DefaultContext) => T)(this.ctx) : s.default;
    };
    // The other program's setting is not read at all, so a worker given the master's
    // SLUICE_API_TOKEN_FILE (one ConfigMap for both) neither opens that file nor needs it.
    if (s.programs !== 'both' && s.programs !== this.ctx.program) return fallback();
    const raw = this.#text(s);
    if (raw === UNREADABLE) return fallback();
    if (raw === undefined || raw === '') {
      if (s.default === REQUIRED) this.problem(s, 'is required but not set');
      return fallback();
    }
    const out = s.parser.parse(raw);
    if ('problem' in out) {
      this.problem(s, out.problem);
      return fallback();
    }
    return out.value;
  }

  /**
   * The text of a setting: from the environment, or for a secret from its file. Setting both
   * is a problem (which one the operator meant is unknown), as is a file that cannot be read;
   * neither problem repeats the secret, and a file's content reaches only the parser.
   */
  #text(s: Setting<unknown>): string | undefined | typeof UNREADABLE {
    const raw = this.#env[s.name];
    if (!s.secret) return raw;
    const fileSetting = secretFileSetting(s);
    const path = this.#env[fileSetting];
    if (path === undefined || path === '') return raw;
    if (raw !== undefined && raw !== '') {
      this.problem(
        s,
        `and ${fileSetting} are both set; set only one of them (the file keeps the secret out of the environment)`,
      );
      return UNREADABLE;
    }
    const read = readSecretFile(path);
    if ('value' in read) return read.value;
    this.problems.push({ path: fileSetting, message: read.problem });
    return UNREADABLE;
  }
}

function hostPortList(r: Reader, s: Setting<string>, value: string): string[] {
  const list = value
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  for (const hp of list) {
    if (!/^[A-Za-z0-9.[\]:_-]+:\d{1,5}$/.test(hp)) {
      r.problem(s, `"${hp}" is not host:port (example: kafka-0.kafka:9092,kafka-1.kafka:9092)`);
    }
  }
  return list;
}

// --- security rules ----------------------------------------------------------------------------

/** Shorter API tokens are refused: 32 characters of `openssl rand -hex 32` are 128 bits. */
export const MIN_API_TOKEN_LENGTH = 32;

/**
 * Words that tokens copied from examples are made of. A token that is only these (in any
 * case, repeated, joined by punctuation or digits) is refused whatever its length, because
 * an attacker tries them first.
 */
const PLACEHOLDER_WORDS = [
  'change',
  'me',
  'secret',
  'token',
  'password',
  'passwd',
  'test',
  'example',
  'default',
  'admin',
  'sluice',
  'dev',
  'demo',
  'api',
  'key',
  'replace',
  'todo',
  'x',
];
const PLACEHOLDER = new RegExp(`^(?:${PLACEHOLDER_WORDS.join('|')})+$`);

/** Why an API token is refused, or null: never the token itself (it is a secret). */
export function apiTokenProblem(token: string): string | null {
  const how = 'make one with `openssl rand -hex 32`';
  if (PLACEHOLDER.test(token.toLowerCase().replace(/[^a-z]/g, '')))
    return `is a placeholder anyone would guess (like change-me or test-token); ${how}`;
  if (token.length < MIN_API_TOKEN_LENGTH)
    return `is ${token.length} characters, fewer than the ${MIN_API_TOKEN_LENGTH} required; ${how}`;
  // A long token of few characters (aaaa…, 1212…) is as guessable as a short one.
  if (new Set(token).size < 8) return `repeats fewer than 8 different characters; ${how}`;
  return null;
}

/** Whether a ZooKeeper host of the connect string is this machine (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(hostPort: string): boolean {
  const host = hostPort
    .replace(/:\d+$/, '')
    .replace(/^\[(.*)\]$/, '$1')
    .toLowerCase();
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** The hosts of a ZooKeeper connect string (`a:2181,b:2181/chroot`). */
const zookeeperHosts = (connect: string): string[] =>
  connect
    .split('/')[0]!
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);

function apiTokenRules(r: Reader, tokens: string[]): void {
  tokens.forEach((t, i) => {
    const problem = apiTokenProblem(t);
    if (problem) r.problem(S.apiTokens, `token ${i + 1} of ${tokens.length} ${problem}`);
  });
}

/**
 * Without digest auth every node Sluice creates is `world:anyone` with all permissions, and
 * workers take a topic's bucket from ZooKeeper: whoever reaches ZooKeeper could redirect a
 * topic's data. So that is refused unless ZooKeeper is only reachable from this machine or the
 * operator says SLUICE_ZOOKEEPER_INSECURE=true.
 */
function zookeeperAuthRules(r: Reader, connect: string, digest: string, insecure: boolean): void {
  if (digest) {
    if (!/^[^:\s]+:\S+$/.test(digest))
      r.problem(S.zookeeperDigest, 'must be user:password (example: sluice:$(openssl rand -hex 32))');
    return;
  }
  const remote = zookeeperHosts(connect).filter((h) => !isLoopbackHost(h));
  if (remote.length === 0 || insecure) return;
  r.problem(
    S.zookeeperDigest,
    `is not set and ZooKeeper (${remote.join(', ')}) is not on loopback: anyone who reaches it could read and change Sluice's state, including where topics write. Set SLUICE_ZOOKEEPER_DIGEST=user:password (the same on every master and worker; make a password with \`openssl rand -hex 32\`), or SLUICE_ZOOKEEPER_INSECURE=true to run with world-writable nodes (never in production)`,
  );
}

/** The host of a Redis URL and whether the URL carries a password, or null when it is no URL. */
function redisAccess(url: string): { host: string; port: string; password: boolean } | null {
  try {
    const u = new URL(url);
    return { host: u.hostname, port: u.port || '6379', password: u.password !== '' };
  } catch {
    return null;
  }
}

/**
 * The warnings a program logs at start about its security settings: running without
 * ZooKeeper digest auth (allowed on loopback or with SLUICE_ZOOKEEPER_INSECURE), and a Redis
 * off loopback without a password (anyone who reaches it could delete, add or change range
 * jobs; Redis itself allows that, so it is a warning, not a refusal).
 */
export function securityWarnings(
  cfg: Pick<CommonConfig, 'zookeeper' | 'zookeeperDigest' | 'redisUrl'>,
): string[] {
  const out: string[] = [];
  if (!cfg.zookeeperDigest) {
    const where = zookeeperHosts(cfg.zookeeper).every(isLoopbackHost)
      ? 'ZooKeeper is on loopback'
      : 'SLUICE_ZOOKEEPER_INSECURE is set';
    out.push(
      `INSECURE: running without ZooKeeper digest auth (${where}): every node Sluice creates is readable and writable by anyone who reaches ZooKeeper, who could redirect a topic's data; set SLUICE_ZOOKEEPER_DIGEST=user:password in production`,
    );
  }
  const redis = redisAccess(cfg.redisUrl);
  if (redis && !redis.password && !isLoopbackHost(redis.host)) {
    out.push(
      `INSECURE: Redis (${redis.host}) is not on loopback and SLUICE_REDIS_URL has no password: anyone who reaches it could delete, delay or flood range jobs and so stall every topic; set SLUICE_REDIS_URL=rediss://:password@${redis.host}:${redis.port} (a password, and TLS with rediss://) in production`,
    );
  }
  return out;
}

/** What a PEM file must hold: certificates, or one private key. */
const PEM_KINDS = {
  certificate: { marker: /-----BEGIN CERTIFICATE-----/, example: 'ca.crt from `openssl req -x509 ...`' },
  key: {
    marker: /-----BEGIN (?:RSA |EC )?PRIVATE KEY-----/,
    example: 'client.key from `openssl req -newkey ...`',
  },
} as const;

/** Checks that a PEM setting names a readable file of the right kind; '' (not set) passes. */
function pemFileRule(r: Reader, s: Setting<string>, path: string, kind: keyof typeof PEM_KINDS): void {
  if (!path) return;
  const read = readSecretFile(path);
  if ('problem' in read) r.problem(s, read.problem);
  else if (kind === 'key' && read.value.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----')) {
    r.problem(
      s,
      `names ${path}, an encrypted key, which Sluice cannot unlock; store it unencrypted (\`openssl pkey -in ${path} -out client.key\`) in a file only Sluice's user may read`,
    );
  } else if (!PEM_KINDS[kind].marker.test(read.value)) {
    r.problem(
      s,
      `names ${path}, which holds no PEM ${kind} (expected a file like ${PEM_KINDS[kind].example})`,
    );
  }
}

/**
 * The PEM files for TLS to Kafka: each readable and of its kind, the certificate and its key
 * together, and none without SLUICE_KAFKA_SSL=true (they would be silently unused).
 */
function kafkaSslFiles(r: Reader, ssl: boolean): KafkaSslFiles {
  const files = {
    ca: r.get(S.kafkaSslCaFile),
    cert: r.get(S.kafkaSslCertFile),
    key: r.get(S.kafkaSslKeyFile),
  };
  const rows = [
    [S.kafkaSslCaFile, files.ca, 'certificate'],
    [S.kafkaSslCertFile, files.cert, 'certificate'],
    [S.kafkaSslKeyFile, files.key, 'key'],
  ] as const;
  for (const [s, path, kind] of rows) {
    if (path && !ssl)
      r.problem(
        s,
        'is set but SLUICE_KAFKA_SSL is not true; set SLUICE_KAFKA_SSL=true (the file is used only over TLS)',
      );
    else pemFileRule(r, s, path, kind);
  }
  if (Boolean(files.cert) !== Boolean(files.key)) {
    const [set, missing] = files.cert
      ? [S.kafkaSslCertFile, S.kafkaSslKeyFile]
      : [S.kafkaSslKeyFile, S.kafkaSslCertFile];
    r.problem(
      missing,
      `is required with ${set.name}: a client certificate needs its private key, and the other way round`,
    );
  }
  return files;
}

/** The OAUTHBEARER token's file: it must hold a token now; it is read again for each connection. */
function oauthbearerTokenFile(r: Reader): string {
  const path = r.get(S.kafkaSaslOauthbearerTokenFile);
  if (!path) return path;
  const read = readSecretFile(path);
  if ('problem' in read) r.problem(S.kafkaSaslOauthbearerTokenFile, read.problem);
  return path;
}

function common(r: Reader): CommonConfig {
  const host = r.get(S.hostname);
  r.ctx.host = host;
  const idSetting = r.ctx.program === 'master' ? S.masterId : S.workerId;
  const id = r.get(idSetting);
  const idProblem = workerIdProblem(id);
  if (idProblem) r.problem(idSetting, idProblem);

  const brokers = hostPortList(r, S.kafkaBrokers, r.get(S.kafkaBrokers));
  const zk = r.get(S.zookeeper);
  if (zk) {
    const [hosts, chroot] = [zk.split('/')[0]!, zk.includes('/') ? zk.slice(zk.indexOf('/')) : ''];
    hostPortList(r, S.zookeeper, hosts);
    if (chroot && !/^(\/[A-Za-z0-9._-]+)+\/?$/.test(chroot)) {
      r.problem(S.zookeeper, `chroot "${chroot}" must be a path like /sluice-prod`);
    }
  }
  const redisUrl = r.get(S.redisUrl);
  if (redisUrl && !/^rediss?:\/\//.test(redisUrl)) {
    r.problem(S.redisUrl, 'must start with redis:// or rediss:// (example: redis://redis:6379)');
  }
  const redisTlsCaFile = r.get(S.redisTlsCaFile);
  if (redisTlsCaFile && redisUrl && !redisUrl.startsWith('rediss://')) {
    r.problem(
      S.redisTlsCaFile,
      'is set but SLUICE_REDIS_URL is not rediss://; use rediss://host:port for TLS to Redis',
    );
  } else pemFileRule(r, S.redisTlsCaFile, redisTlsCaFile, 'certificate');
  const endpoint = r.get(S.s3Endpoint);
  if (endpoint && !/^https?:\/\/[^/\s]+\/?$/.test(endpoint)) {
    r.problem(S.s3Endpoint, `must be http(s)://host[:port] or empty for AWS; got "${endpoint}"`);
  }
  // The S3 client is made at its first request (s3-client.ts): what it would refuse, refused here.
  if (r.get(S.s3Region) === '')
    r.problem(S.s3Region, "must not be empty; set the bucket's region, e.g. us-east-1");
  const saslMech = r.get(S.kafkaSaslMechanism);
  const sasl =
    saslMech === 'none'
      ? null
      : saslMech === 'oauthbearer'
        ? { mechanism: saslMech, username: '', password: '', tokenFile: oauthbearerTokenFile(r) }
        : { mechanism: saslMech, username: r.get(S.kafkaSaslUsername), password: r.get(S.kafkaSaslPassword) };
  const queuePrefix = r.get(S.queuePrefix);
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(queuePrefix)) {
    r.problem(S.queuePrefix, 'must be 1 to 64 of letters, digits, ".", "_" and "-"');
  }
  const kafkaClientId = r.get(S.kafkaClientId);
  const kafkaSsl = r.get(S.kafkaSsl);
  const zookeeperDigest = r.get(S.zookeeperDigest);
  if (zk) zookeeperAuthRules(r, zk, zookeeperDigest, r.get(S.zookeeperInsecure));
  const zkSessionTimeoutMs = r.get(S.zkSessionTimeoutMs);
  const s3: S3Settings = {
    endpoint: endpoint.replace(/\/$/, ''),
    region: r.get(S.s3Region),
    forcePathStyle: r.get(S.s3ForcePathStyle),
    conditionalWrites: r.get(S.s3ConditionalWrites),
    maxAttempts: r.get(S.s3MaxAttempts),
  };
  const httpHost = r.get(S.httpHost);
  const httpPort = r.get(S.httpPort);
  r.ctx.httpPort = httpPort;
  const apiTokens = r.get(S.apiTokens);
  // The worker ignores the master's settings, as it ignores every other one of them.
  if (r.ctx.program === 'master') apiTokenRules(r, apiTokens);
  return {
    kafkaBrokers: brokers,
    kafkaClientId,
    kafkaSsl,
    kafkaSslFiles: kafkaSslFiles(r, kafkaSsl),
    kafkaSasl: sasl,
    zookeeper: zk,
    zookeeperDigest,
    zkSessionTimeoutMs,
    redisUrl,
    redisTlsCaFile,
    queuePrefix,
    s3,
    httpHost,
    httpPort,
    apiTokens,
    protectReads: r.get(S.protectReads),
    logLevel: r.get(S.logLevel),
    id,
    host,
  };
}

function finish<T extends object>(r: Reader, value: T): Readonly<T> {
  if (r.problems.length > 0) {
    const err = new ValidationError(r.problems, ErrorCodes.CONFIG);
    err.message = `sluice-${r.ctx.program} cannot start; fix these settings:\n${r.problems.map((p) => `  - ${p.path} ${p.message}`).join('\n')}`;
    throw err;
  }
  return Object.freeze(value);
}

export function loadMasterConfig(env: Env = process.env): Readonly<MasterConfig> {
  const r = new Reader(env, 'master');
  const c = common(r);
  const stallTimeoutMs = r.get(S.stallTimeoutMs);
  return finish(r, {
    ...c,
    advertisedUrl: r.get(S.advertisedUrl).replace(/\/$/, ''),
    planIntervalMs: r.get(S.planIntervalMs),
    stallTimeoutMs,
    maxInFlightPerPartition: r.get(S.maxInFlightPerPartition),
    reconcileIntervalMs: r.get(S.reconcileIntervalMs),
    auditIntervalMs: r.get(S.auditIntervalMs),
    finalizeIntervalMs: r.get(S.finalizeIntervalMs),
    patternDiscoveryIntervalMs: r.get(S.patternDiscoveryIntervalMs),
    abandonedUploadAgeMs: r.get(S.abandonedUploadAgeMs),
    jobAttempts: r.get(S.jobAttempts),
    http: httpGuard(r),
    maxRunningReplays: r.get(S.maxRunningReplays),
    minRangeMessages: r.get(S.minRangeMessages),
    minRangeBytes: r.get(S.minRangeBytes),
    mirrorGroupOffsets: r.get(S.mirrorGroupOffsets),
    mirrorGroupPrefix: mirrorGroupPrefix(r),
    topicsFile: r.get(S.topicsFile),
    topicsFileIntervalMs: r.get(S.topicsFileIntervalMs),
  });
}

function mirrorGroupPrefix(r: Reader): string {
  const prefix = r.get(S.mirrorGroupPrefix);
  if (!/^[A-Za-z0-9._-]{0,64}$/.test(prefix))
    r.problem(S.mirrorGroupPrefix, `must be up to 64 of letters, digits, ".", "_" and "-"; got "${prefix}"`);
  return prefix;
}

function httpGuard(r: Reader): HttpGuardSettings {
  const metricsToken = r.get(S.metricsToken);
  const problem = metricsToken ? apiTokenProblem(metricsToken) : null;
  if (problem) r.problem(S.metricsToken, problem);
  const allowedHosts = r.get(S.allowedHosts).map((h) => h.toLowerCase());
  for (const h of allowedHosts) {
    if (!/^[a-z0-9.[\]:_-]+$/.test(h))
      r.problem(S.allowedHosts, `"${h}" is not a host name (example: sluice.internal,localhost)`);
  }
  const requestTimeoutMs = r.get(S.httpRequestTimeoutMs);
  const headersTimeoutMs = r.get(S.httpHeadersTimeoutMs);
  if (headersTimeoutMs > requestTimeoutMs)
    r.problem(S.httpHeadersTimeoutMs, `must not exceed SLUICE_HTTP_REQUEST_TIMEOUT_MS (${requestTimeoutMs})`);
  return {
    metricsToken,
    allowedHosts,
    requestTimeoutMs,
    headersTimeoutMs,
    connectionTimeoutMs: r.get(S.httpConnectionTimeoutMs),
    keepAliveTimeoutMs: r.get(S.httpKeepAliveTimeoutMs),
    maxConnections: r.get(S.httpMaxConnections),
    maxRequestsPerSocket: r.get(S.httpMaxRequestsPerSocket),
    rateLimitPerMinute: r.get(S.rateLimitPerMinute),
    auditCacheMs: r.get(S.auditCacheMs),
    auditMaxOffsets: r.get(S.auditMaxOffsets),
  };
}

export function loadWorkerConfig(env: Env = process.env): Readonly<WorkerConfig> {
  const r = new Reader(env, 'worker');
  return finish(r, {
    ...common(r),
    concurrency: r.get(S.concurrency),
    partSizeBytes: r.get(S.partSizeBytes),
    parquetRowGroupBytes: r.get(S.parquetRowGroupBytes),
    uploadQueueSize: r.get(S.uploadQueueSize),
    fetchMaxBytes: r.get(S.fetchMaxBytes),
    progressIntervalMs: r.get(S.progressIntervalMs),
    shutdownGraceMs: r.get(S.shutdownGraceMs),
    probeMaxIntervalMs: r.get(S.probeMaxIntervalMs),
    verifyOnRetry: r.get(S.verifyOnRetry),
    schemaRegistry: schemaRegistrySettings(r),
  });
}

/** The registry's URL must be http(s); a user needs a password; the CA file must be a PEM. */
function schemaRegistrySettings(r: Reader): SchemaRegistrySettings {
  const out = {
    url: r.get(S.schemaRegistryUrl).replace(/\/+$/, ''),
    username: r.get(S.schemaRegistryUsername),
    password: r.get(S.schemaRegistryPassword),
    caFile: r.get(S.schemaRegistryCaFile),
  };
  if (out.url && !/^https?:\/\/[^/\s]+/i.test(out.url)) {
    r.problem(
      S.schemaRegistryUrl,
      `must be an http:// or https:// URL of the registry's API root, e.g. http://registry:8081, got "${out.url}"`,
    );
  }
  if (Boolean(out.username) !== Boolean(out.password)) {
    const [set, missing] = out.username
      ? [S.schemaRegistryUsername, S.schemaRegistryPassword]
      : [S.schemaRegistryPassword, S.schemaRegistryUsername];
    r.problem(missing, `is required with ${set.name}: basic auth to the Schema Registry needs both`);
  }
  pemFileRule(r, S.schemaRegistryCaFile, out.caFile, 'certificate');
  return out;
}

// --- secrets -----------------------------------------------------------------------------------

/** Where the secret settings are in a loaded config, for the logger's redaction list. */
export const SECRET_CONFIG_PATHS: readonly string[] = SETTING_TABLE.flatMap((s) =>
  s.secret ? [s.secret.path] : [],
);

/** Shorter strings are not treated as secrets (they would mask ordinary words). */
const MIN_SECRET_LENGTH = 4;

/**
 * The secret texts of a loaded config (Redis password, Kafka SASL password, ZooKeeper digest,
 * API tokens: the rows of SETTING_TABLE marked secret), longest first, for scrubbing answers
 * that carry text from elsewhere.
 */
export function configuredSecrets(
  cfg: Pick<CommonConfig, 'redisUrl' | 'kafkaSasl' | 'zookeeperDigest' | 'apiTokens'>,
): string[] {
  const out: string[] = [];
  for (const s of SETTING_TABLE) {
    if (!s.secret) continue;
    let value: unknown = cfg;
    for (const key of s.secret.path.split('.'))
      value = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
    for (const v of Array.isArray(value) ? value : [value]) {
      if (typeof v !== 'string' || v === '') continue;
      out.push(...(s.secret.parts ? s.secret.parts(v) : [v]));
    }
  }
  return [...new Set(out.filter((s) => s.length >= MIN_SECRET_LENGTH))].sort((a, b) => b.length - a.length);
}

// --- names that are not settings ---------------------------------------------------------------

/**
 * `SLUICE_` names that no setting has but that are no mistake either: the local stack's
 * (deploy/local, all under SLUICE_STACK_), the `sluice` CLI's SLUICE_API_URL, and those of
 * the repository's own scripts (demo, benchmark, scripts/ensure-node.sh, deploy/local/probe.ts).
 */
const OTHER_PREFIXES = ['SLUICE_STACK_', 'SLUICE_DEMO_', 'SLUICE_BENCH_'];
const OTHER_NAMES = new Set(['SLUICE_API_URL', 'SLUICE_NODE_PACKAGE', 'SLUICE_PROBE_TIMEOUT_MS']);

/** Edits (insert, delete, replace, swap two neighbours) that turn `a` into `b`. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i]!;
      row[j] = Math.min(
        d[i - 1]![j]! + 1,
        row[j - 1]! + 1,
        d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** The setting a mistyped name most likely meant, or null when none is near. */
export function closestSetting(name: string): string | null {
  const wanted = name.toUpperCase();
  let best: { name: string; distance: number } | null = null;
  for (const s of SETTINGS) {
    const distance = editDistance(wanted, s);
    if (!best || distance < best.distance) best = { name: s, distance };
  }
  // Near: at most 2 edits, or 40 % of what follows SLUICE_ (SLUICE_WORKER_JOB_ATTEMPTS is 7
  // edits from SLUICE_JOB_ATTEMPTS); farther names are more likely something else entirely.
  const near = Math.max(2, Math.floor(0.4 * (name.length - 'SLUICE_'.length)));
  return best && best.distance <= near ? best.name : null;
}

/**
 * One warning per `SLUICE_*` variable of `env` that neither program reads, naming the setting
 * it most likely meant. Both programs print these at start, before their settings are checked
 * (so also when they then exit for bad settings), and never stop for them: an unknown name
 * changes nothing, which is why it deserves a word. A setting of the other program is known.
 */
export function unknownSettingWarnings(env: Env = process.env): string[] {
  const known = new Set(SETTINGS);
  return Object.keys(env)
    .filter(
      (n) =>
        n.startsWith('SLUICE_') &&
        !known.has(n) &&
        !OTHER_NAMES.has(n) &&
        !OTHER_PREFIXES.some((p) => n.startsWith(p)),
    )
    .sort()
    .map((n) => {
      const meant = closestSetting(n);
      return meant
        ? `${n} is not a setting; did you mean ${meant}?`
        : `${n} is not a setting of sluice-master or sluice-worker (see the Configuration table of README.md); it is ignored`;
    });
}
