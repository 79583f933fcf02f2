/**
 * Sluice end to end, from registration to committed: a fresh installation (one master, N
 * workers, run from source) registers a topic whose whole backlog is already in Kafka, and
 * the clock runs from the POST until ZooKeeper shows every partition committed to its end.
 * Worker CPU comes from /proc (every thread), peak memory from VmHWM; what was written comes
 * from the ranges' commit records, which must add up to exactly the topic's records.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  type CommitRecord,
  type Compression,
  decodeJson,
  type Format,
  type PartitionState,
  partitionPath,
  ZkSession,
} from '@sluice/shared';
import { linesInObject } from './benthos.ts';
import { BenchCluster } from './cluster.ts';
import type { Dataset } from './dataset.ts';
import { rangesOf } from './dataset.ts';
import { cpuSeconds, peakRssMiB, rssMiB } from './proc-stats.ts';
import type { BenchEnv } from './stack.ts';

export interface E2eConfig {
  workers: number;
  concurrency: number;
  format: Format;
  compression: Compression;
}

export interface WorkerFigures {
  cpuSeconds: number;
  idleRssMiB: number;
  peakRssMiB: number;
}

export interface E2eResult {
  config: E2eConfig;
  dataset: string;
  seconds: number;
  records: number;
  /** Source (key + value) bytes moved. */
  bytes: number;
  /** Encoded, uncompressed bytes (commit records' rawBytes). */
  encodedBytes: number;
  /** Bytes stored in S3. */
  storedBytes: number;
  objects: number;
  ranges: number;
  workers: WorkerFigures[];
  master: { cpuSeconds: number; peakRssMiB: number };
  /** CPU the master and workers used before the registration (start-up and idle until then). */
  startupCpuSeconds: number;
  /** Lines in the data objects, read back from S3 (only with `countLines`). */
  linesInS3?: number;
  /** ZooKeeper requests through ZkSession, by process kind and request. */
  zk: { master: Record<string, number>; workers: Record<string, number> };
}

function add(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

export async function listKeys(
  s3: S3Client,
  bucket: string,
  prefix: string,
): Promise<Array<{ key: string; size: number }>> {
  const out: Array<{ key: string; size: number }> = [];
  let token: string | undefined;
  do {
    const res = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of res.Contents ?? []) out.push({ key: o.Key as string, size: o.Size ?? 0 });
    token = res.IsTruncated ? res.NextContinuationToken : undefined;
  } while (token);
  return out;
}

export async function deletePrefix(s3: S3Client, bucket: string, prefix: string): Promise<void> {
  const keys = (await listKeys(s3, bucket, prefix)).map((o) => o.key);
  const lane = async () => {
    for (let k = keys.shift(); k !== undefined; k = keys.shift()) {
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: k })).catch(() => {});
    }
  };
  await Promise.all(Array.from({ length: 8 }, lane));
}

async function waitCommitted(zk: ZkSession, d: Dataset, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let done = true;
    for (const { partition, end } of d.ends) {
      const node = await zk.get(partitionPath(d.topic, partition));
      if (!node) {
        done = false;
        break;
      }
      const state = decodeJson<PartitionState>(node.data, 'partition');
      if (BigInt(state.committedOffset) < end) {
        done = false;
        break;
      }
    }
    if (done) return;
    if (Date.now() > deadline) throw new Error(`${d.topic} not committed within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function waitWorkersSeen(masterUrl: string, workers: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${masterUrl}/api/v1/status`);
      if (res.ok) {
        const body = (await res.json()) as { master: { leader: boolean }; workers: unknown[] };
        if (body.master.leader && body.workers.length === workers) return;
      }
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the master did not lead with ${workers} workers within 60 s`);
}

export interface E2eOptions {
  env: BenchEnv;
  s3: S3Client;
  bucket: string;
  name: string;
  dataset: Dataset;
  config: E2eConfig;
  /** Node flags for the workers (profiling, the memory probe). */
  workerNodeFlags?: string[];
  /** Environment of the workers beyond the cluster's (settings a run varies). */
  workerEnv?: Record<string, string>;
  /** Working directory of the processes (where heap snapshots land). */
  workDir?: string;
  /** Called with the workers' pids once the topic is registered (profiling). */
  onRunning?: (workerPids: number[]) => void;
  timeoutMs?: number;
  /** Fields of the registration beyond the config's (the peer comparison's range size, level...). */
  topicFields?: Record<string, unknown>;
  /** Count the lines of every data object in S3 before cleaning up (the peer comparison). */
  countLines?: boolean;
  /**
   * Run the built programs as the images do (cluster.ts `fromDist`) at the master's own plan
   * interval, not the source at 250 ms: for the peer comparison's CPU figures, where type
   * stripping and four passes a second are costs no deployment pays. No ZooKeeper counts.
   */
  asDeployed?: boolean;
  log: (s: string) => void;
}

export async function runE2e(o: E2eOptions): Promise<E2eResult> {
  const { env, s3, bucket, dataset: d, config: c } = o;
  const cluster = new BenchCluster(env, o.name, {
    ...(o.asDeployed ? { fromDist: true } : { env: { SLUICE_PLAN_INTERVAL_MS: '250' } }),
    ...(o.workerNodeFlags ? { workerNodeFlags: o.workerNodeFlags } : {}),
    ...(o.workDir ? { workDir: o.workDir } : {}),
  });
  const prefix = o.name;
  const zk = await ZkSession.open({ connect: `${env.zookeeper}${cluster.chroot}`, sessionTimeoutMs: 10_000 });
  try {
    const master = await cluster.startMaster();
    const workers = [];
    for (let i = 0; i < c.workers; i++) {
      workers.push(
        await cluster.startWorker({ ...o.workerEnv, SLUICE_WORKER_CONCURRENCY: String(c.concurrency) }),
      );
    }
    await waitWorkersSeen(master.url, c.workers);
    const idle = workers.map((w) => rssMiB(w.pid));
    const cpu0 = workers.map((w) => cpuSeconds(w.pid));
    const masterCpu0 = cpuSeconds(master.pid);

    const t0 = performance.now();
    const res = await fetch(`${master.url}/api/v1/topics`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cluster.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        topic: d.topic,
        destination: { bucket, prefix },
        format: c.format,
        compression: c.compression,
        maxRangeMessages: d.rangeMessages,
        flushIntervalMs: 500,
        ...o.topicFields,
      }),
    });
    if (res.status !== 201) throw new Error(`registration answered ${res.status}: ${await res.text()}`);
    o.onRunning?.(workers.map((w) => w.pid));
    await waitCommitted(zk, d, o.timeoutMs ?? 600_000);
    const seconds = (performance.now() - t0) / 1000;

    const figures: WorkerFigures[] = workers.map((w, i) => ({
      cpuSeconds: cpuSeconds(w.pid) - (cpu0[i] as number),
      idleRssMiB: idle[i] as number,
      peakRssMiB: peakRssMiB(w.pid),
    }));
    const masterFigures = {
      cpuSeconds: cpuSeconds(master.pid) - masterCpu0,
      peakRssMiB: peakRssMiB(master.pid),
    };
    await cluster.stop();

    const zkCounts = { master: {} as Record<string, number>, workers: {} as Record<string, number> };
    for (const p of cluster.zkCounts())
      add(p.name.startsWith('master') ? zkCounts.master : zkCounts.workers, p.counts);

    const listed = await listKeys(s3, bucket, `${prefix}/`);
    let linesInS3: number | undefined;
    if (o.countLines) {
      linesInS3 = 0;
      for (const obj of listed.filter((x) => !x.key.includes('/_sluice/')))
        linesInS3 += await linesInObject(s3, bucket, obj.key);
    }
    const commits = listed.filter((o) => o.key.includes('/_sluice/commits/'));
    let records = 0;
    let encodedBytes = 0;
    let storedBytes = 0;
    let objects = 0;
    // Values Sluice could not lay out (an Avro run whose schema or wire format is off) land in
    // rejected-records objects and are not in `records`: counted so a miss says why.
    let rejected = 0;
    for (const cr of commits) {
      const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: cr.key }));
      const rec = JSON.parse((await out.Body?.transformToString('utf-8')) ?? '') as CommitRecord;
      records += rec.records;
      encodedBytes += rec.rawBytes;
      storedBytes += rec.objectBytes;
      objects += rec.objects.length;
      rejected += rec.rejected?.records ?? 0;
    }
    if (records !== d.records) {
      throw new Error(
        `commit records list ${records} records (and ${rejected} rejected), the topic holds ${d.records}: not exactly once`,
      );
    }
    const result: E2eResult = {
      config: c,
      dataset: d.label,
      seconds,
      records,
      bytes: d.bytes,
      encodedBytes,
      storedBytes,
      objects,
      ranges: commits.length,
      workers: figures,
      master: masterFigures,
      startupCpuSeconds: masterCpu0 + cpu0.reduce((n, c) => n + c, 0),
      ...(linesInS3 !== undefined ? { linesInS3 } : {}),
      zk: zkCounts,
    };
    const expected = rangesOf(d).length;
    if (commits.length !== expected)
      o.log(`note: ${commits.length} ranges committed, ${expected} expected from the cut`);
    return result;
  } finally {
    await cluster.stop().catch(() => {});
    await zk.close().catch(() => {});
    await cluster.clean().catch((err) => o.log(`cleanup of ${cluster.name} failed: ${String(err)}`));
    await deletePrefix(s3, bucket, `${prefix}/`).catch(() => {});
  }
}
