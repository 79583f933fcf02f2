/**
 * The benchmark's peer, Benthos v4.27.0 (bench/benthos/: a Go main module with only the
 * kafka, aws, io and pure components): built once from the Go module proxy into
 * .cache/benthos-v4.27.0, then run on a benchmark topic with the config closest to Sluice's
 * (kafka_franz → batches of 10,000 records or 5 s → lines → gzip/zstd at Sluice's level →
 * aws_s3 on the stack's S3). The clock runs from its start until its objects in S3 hold every
 * record of the topic, counted line by line; its CPU is /proc's utime + stime of the process.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, zstdDecompressSync } from 'node:zlib';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { type Compression, compressionLevelOf } from '@sluice/shared';
import type { Dataset } from './dataset.ts';
import { listKeys } from './e2e.ts';
import { childrenCpuSeconds, cpuSeconds, peakRssMiB } from './proc-stats.ts';
import { type BenchEnv, REPO } from './stack.ts';

export const BENTHOS_VERSION = 'v4.27.0';
const MODULE_DIR = join(REPO, 'bench', 'benthos');

export interface BenthosBuild {
  path: string;
  /** The build of this run, or null when the binary of the same sources was reused. */
  built: { seconds: number; cpuSeconds: number } | null;
}

/**
 * The binary, built when missing or when bench/benthos/ changed (a stamp of its files).
 * GOFLAGS=-mod=mod: go.sum is checked in, the module proxy fills the module cache.
 */
export function ensureBenthos(log: (s: string) => void): BenthosBuild {
  const dir = join(REPO, '.cache', `benthos-${BENTHOS_VERSION}`);
  const path = join(dir, 'benthos');
  const stampFile = join(dir, 'stamp');
  const hash = createHash('sha256');
  for (const f of ['go.mod', 'go.sum', 'main.go']) hash.update(readFileSync(join(MODULE_DIR, f)));
  const stamp = hash.digest('hex');
  if (existsSync(path) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp)
    return { path, built: null };
  mkdirSync(dir, { recursive: true });
  log(`building Benthos ${BENTHOS_VERSION} (go build; the first build downloads its modules: minutes)`);
  const cpu0 = childrenCpuSeconds();
  const t0 = performance.now();
  const res = spawnSync('go', ['build', '-trimpath', '-o', path, '.'], {
    cwd: MODULE_DIR,
    env: { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod -buildvcs=false' },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (res.status !== 0) {
    throw new Error(
      `go build of bench/benthos failed (${res.status ?? res.error?.message}): ${(res.stderr ?? '').slice(-2000)}; it needs Go ≥ 1.22 on PATH and the Go module proxy`,
    );
  }
  writeFileSync(stampFile, stamp);
  return {
    path,
    built: { seconds: (performance.now() - t0) / 1000, cpuSeconds: childrenCpuSeconds() - cpu0 },
  };
}

/** The config: everything Benthos is told, as YAML. */
export function benthosConfig(o: {
  env: BenchEnv;
  topic: string;
  group: string;
  bucket: string;
  prefix: string;
  compression: Exclude<Compression, 'none'>;
  level: number;
  httpPort: number;
  batchCount: number;
  batchPeriodMs: number;
}): string {
  const s = o.env.stack;
  const compress =
    o.compression === 'gzip'
      ? `        - compress: { algorithm: gzip, level: ${o.level} }`
      : `        - zstd_compress: { level: ${o.level} }`;
  const q = (v: string) => JSON.stringify(v);
  return [
    `http: { enabled: true, address: ${q(`127.0.0.1:${o.httpPort}`)} }`,
    'logger: { level: WARN }',
    'input:',
    '  kafka_franz:',
    `    seed_brokers: ${JSON.stringify(o.env.brokers)}`,
    `    topics: [${q(o.topic)}]`,
    `    consumer_group: ${q(o.group)}`,
    '    start_from_oldest: true',
    '    commit_period: 1s',
    // Records held unacknowledged per partition (default 1,024): below a batch's 10,000 records
    // across 6 partitions a batch could never fill and would wait for its period every time.
    `    checkpoint_limit: ${o.batchCount * 2}`,
    'output:',
    '  aws_s3:',
    `    bucket: ${q(o.bucket)}`,
    `    path: '${o.prefix}/\${! count("files") }-\${! timestamp_unix_nano() }.txt.${o.compression === 'gzip' ? 'gz' : 'zst'}'`,
    `    endpoint: ${q(s.SLUICE_S3_ENDPOINT)}`,
    `    region: ${q(s.SLUICE_S3_REGION)}`,
    '    force_path_style_urls: true',
    `    credentials: { id: ${q(s.AWS_ACCESS_KEY_ID)}, secret: ${q(s.AWS_SECRET_ACCESS_KEY)} }`,
    '    batching:',
    `      count: ${o.batchCount}`,
    `      period: ${q(`${o.batchPeriodMs}ms`)}`,
    '      processors:',
    '        - archive: { format: lines }',
    compress,
    '',
  ].join('\n');
}

/** Lines (records) in one object, read back as a user would (gzip or zstd by its name, else as is). */
export async function linesInObject(s3: S3Client, bucket: string, key: string): Promise<number> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const body = Buffer.from((await res.Body?.transformToByteArray()) ?? []);
  const text = /\.(gz|gzip)$/.test(key)
    ? gunzipSync(body)
    : /\.(zst|zstd)$/.test(key)
      ? zstdDecompressSync(body)
      : body;
  let n = 0;
  for (let at = text.indexOf(10); at !== -1; at = text.indexOf(10, at + 1)) n++;
  // Benthos's `archive: lines` joins with "\n" and ends without one; Sluice ends every line.
  return text.length > 0 && text[text.length - 1] !== 10 ? n + 1 : n;
}

export interface BenthosResult {
  system: 'benthos';
  compression: Exclude<Compression, 'none'>;
  level: number;
  dataset: string;
  seconds: number;
  records: number;
  /** Lines found in S3: more than `records` would be duplicates (Benthos is at least once). */
  linesInS3: number;
  bytes: number;
  storedBytes: number;
  objects: number;
  /** All CPU of the process, and its CPU when its HTTP server first answered /ready. */
  cpuSeconds: number;
  startupCpuSeconds: number;
  peakRssMiB: number;
}

export interface BenthosRunOptions {
  env: BenchEnv;
  s3: S3Client;
  bucket: string;
  name: string;
  dataset: Dataset;
  binary: string;
  compression: Exclude<Compression, 'none'>;
  /** Absent: Sluice's default for the codec. */
  level?: number;
  httpPort: number;
  timeoutMs?: number;
  log: (s: string) => void;
}

/** One Benthos run over the whole topic (a fresh consumer group), timed to the last line in S3. */
export async function runBenthos(o: BenthosRunOptions): Promise<BenthosResult> {
  const { env, s3, bucket, dataset: d } = o;
  const level = o.level ?? (compressionLevelOf({ compression: o.compression }) as number);
  const prefix = o.name;
  const dir = join(env.scratchDir, 'benthos');
  mkdirSync(dir, { recursive: true });
  const configFile = join(dir, `${o.name}.yaml`);
  writeFileSync(
    configFile,
    benthosConfig({
      env,
      topic: d.topic,
      group: o.name,
      bucket,
      prefix,
      compression: o.compression,
      level,
      httpPort: o.httpPort,
      batchCount: 10_000,
      batchPeriodMs: 5_000,
    }),
  );
  const t0 = performance.now();
  const child: ChildProcess = spawn(o.binary, ['-c', configFile], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString()).slice(-4000);
  });
  const pid = child.pid as number;
  let startupCpu = Number.NaN;
  let lastCpu = 0;
  let peak = 0;
  const sample = () => {
    try {
      lastCpu = cpuSeconds(pid);
      peak = Math.max(peak, peakRssMiB(pid));
    } catch {
      // exited
    }
  };
  try {
    const counted = new Map<string, number>();
    let lines = 0;
    let seconds = Number.NaN;
    const deadline = Date.now() + (o.timeoutMs ?? 600_000);
    while (Number.isNaN(seconds)) {
      if (child.exitCode !== null) throw new Error(`Benthos exited (${child.exitCode}): ${stderr}`);
      if (Date.now() > deadline)
        throw new Error(`Benthos did not write ${d.records} records within the timeout`);
      if (Number.isNaN(startupCpu)) {
        const ready = await fetch(`http://127.0.0.1:${o.httpPort}/ready`).catch(() => null);
        if (ready?.ok) startupCpu = cpuSeconds(pid);
      }
      sample();
      const listedAt = performance.now();
      for (const obj of await listKeys(s3, bucket, `${prefix}/`)) {
        if (counted.has(obj.key)) continue;
        const n = await linesInObject(s3, bucket, obj.key);
        counted.set(obj.key, n);
        lines += n;
      }
      if (lines >= d.records) seconds = (listedAt - t0) / 1000;
      else await new Promise((r) => setTimeout(r, 250));
    }
    sample();
    const listed = await listKeys(s3, bucket, `${prefix}/`);
    return {
      system: 'benthos',
      compression: o.compression,
      level,
      dataset: d.label,
      seconds,
      records: d.records,
      linesInS3: lines,
      bytes: d.bytes,
      storedBytes: listed.reduce((n, x) => n + x.size, 0),
      objects: listed.length,
      cpuSeconds: lastCpu,
      startupCpuSeconds: startupCpu,
      peakRssMiB: peak,
    };
  } finally {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
    clearTimeout(timer);
  }
}
