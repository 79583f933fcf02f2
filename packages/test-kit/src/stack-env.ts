/**
 * Where the local stack's services are, for tests, the benchmark and the scripts: the settings
 * that `npm run stack:up` (deploy/local/stack.sh) writes to `.sluice/stack.env`. This is the
 * one reader of that file, with the one quoting rule of stack.sh (see {@link parseEnvFile}).
 *
 * The file is read when it exists (`$SLUICE_STACK_DIR/stack.env` when that is set, else
 * `<repo>/.sluice/stack.env`); otherwise the same names are taken from `process.env`, so a CI
 * job or a developer can point the tests at services of their own. When neither has them,
 * this throws: a test that needs the stack must fail, never skip, when the stack is missing.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is packages/test-kit/src/stack-env.ts). */
export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The names every test may rely on; `loadStackEnv` fails when one is missing. */
const REQUIRED = [
  'SLUICE_KAFKA_BROKERS',
  'SLUICE_ZOOKEEPER',
  'SLUICE_REDIS_URL',
  'SLUICE_S3_ENDPOINT',
  'SLUICE_S3_REGION',
  'SLUICE_S3_FORCE_PATH_STYLE',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
] as const;

type Required = (typeof REQUIRED)[number];

/**
 * The stack's settings: every `SLUICE_*` and `AWS_*` name of stack.env, the required ones
 * typed as present. Among the optional ones: `SLUICE_S3_CONDITIONAL_WRITES` ("true" when the
 * S3 server refuses `If-None-Match: *` writes on existing keys), `SLUICE_STACK_KAFKA_HOME`
 * (Kafka's jars in `libs/`, for its Java tools) and `SLUICE_STACK_LOG_DIR`.
 */
export type StackEnv = Readonly<Record<Required, string> & Record<string, string>>;

export class StackNotRunningError extends Error {
  constructor(detail: string) {
    super(`local stack is not running: run npm run stack:up (${detail})`);
    this.name = 'StackNotRunningError';
  }
}

/** The path of stack.env this process reads. */
export function stackEnvFile(): string {
  const dir = process.env.SLUICE_STACK_DIR || '.sluice';
  return join(isAbsolute(dir) ? dir : join(REPO, dir), 'stack.env');
}

/**
 * Parses `KEY=value` lines as a POSIX shell would for the values stack.sh writes: bare words,
 * or single-quoted with `'\''` for a quote inside (stack.sh's `shell_quote`); double quotes
 * with backslash escapes are read too, for a file written by hand.
 */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!match) continue;
    const [, key, value] = match as unknown as [string, string, string];
    if (value.startsWith("'")) {
      // stack.sh writes 'a'\''b' for a value holding a single quote.
      env[key] = value.slice(1, -1).replaceAll("'\\''", "'");
    } else if (value.startsWith('"')) {
      env[key] = value.slice(1, -1).replace(/\\(["\\$`])/g, '$1');
    } else {
      env[key] = value;
    }
  }
  return env;
}

let cached: StackEnv | undefined;

/**
 * The local stack's settings; throws {@link StackNotRunningError} when stack.env is missing
 * and `process.env` does not name the services either.
 */
export function loadStackEnv(): StackEnv {
  if (cached) return cached;
  const file = stackEnvFile();
  let source: Record<string, string | undefined>;
  let origin: string;
  if (existsSync(file)) {
    source = parseEnvFile(readFileSync(file, 'utf8'));
    origin = file;
  } else {
    source = process.env;
    origin = `no ${file}, and process.env`;
  }
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(source)) {
    if ((key.startsWith('SLUICE_') || key.startsWith('AWS_')) && value !== undefined) env[key] = value;
  }
  const missing = REQUIRED.filter((key) => !env[key]);
  if (missing.length > 0) {
    throw new StackNotRunningError(`${origin} lacks ${missing.join(', ')}`);
  }
  cached = Object.freeze(env) as StackEnv;
  return cached;
}

/** A name no other test run uses: `<base>-<time>-<random>`, valid for topics, buckets and queues. */
export function uniqueName(base: string): string {
  return `${base}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** The stack's secured Kafka listeners and Redis TLS port, with what a client needs for each. */
export interface StackSecurity {
  /** `host:port` of the SSL listener (server certificate only). */
  kafkaTlsBrokers: string;
  /** `host:port` of the SASL_SSL listener (SCRAM-SHA-512, SCRAM-SHA-256 and PLAIN). */
  kafkaSaslBrokers: string;
  /** `host:port` of the SSL listener that requires a client certificate. */
  kafkaMtlsBrokers: string;
  kafkaSaslUsername: string;
  kafkaSaslPassword: string;
  /** PEM file of the CA that signed the servers' and the client's certificates. */
  caFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  /** `rediss://host:port` of the stack's Redis. */
  redisTlsUrl: string;
}

const SECURITY_NAMES = {
  kafkaTlsBrokers: 'SLUICE_STACK_KAFKA_TLS_BROKERS',
  kafkaSaslBrokers: 'SLUICE_STACK_KAFKA_SASL_BROKERS',
  kafkaMtlsBrokers: 'SLUICE_STACK_KAFKA_MTLS_BROKERS',
  kafkaSaslUsername: 'SLUICE_STACK_KAFKA_SASL_USERNAME',
  kafkaSaslPassword: 'SLUICE_STACK_KAFKA_SASL_PASSWORD',
  caFile: 'SLUICE_STACK_KAFKA_CA_FILE',
  clientCertFile: 'SLUICE_STACK_KAFKA_CLIENT_CERT_FILE',
  clientKeyFile: 'SLUICE_STACK_KAFKA_CLIENT_KEY_FILE',
  redisTlsUrl: 'SLUICE_STACK_REDIS_TLS_URL',
} as const satisfies Record<keyof StackSecurity, string>;

/**
 * The secured listeners of the running stack (`SLUICE_STACK_KAFKA_*`, `SLUICE_STACK_REDIS_TLS_URL`
 * in stack.env). Throws when they are missing: the stack's Kafka or Redis was started by an
 * older stack.sh, and a restart of that service (which makes them) is the fix.
 */
export function loadStackSecurity(): StackSecurity {
  const env = loadStackEnv();
  const missing = Object.values(SECURITY_NAMES).filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new Error(
      `the local stack has no secured listeners (${stackEnvFile()} lacks ${missing.join(', ')}): its Kafka or Redis was started by an older deploy/local/stack.sh; restart them with bash deploy/local/stack.sh restart kafka (and restart redis)`,
    );
  }
  return Object.fromEntries(
    Object.entries(SECURITY_NAMES).map(([key, name]) => [key, env[name]]),
  ) as unknown as StackSecurity;
}
