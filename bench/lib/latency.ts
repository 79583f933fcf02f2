/**
 * Latency from produce to object visible: a producer writes a steady trickle of small JSON
 * events into a fresh topic registered with `flushIntervalMs` (5 s), a poller lists the
 * destination every 200 ms, and each record's latency is the time its object first appeared
 * in the listing minus the record's Kafka timestamp (the producer's clock: same machine).
 * The master plans at its default interval (1 s), so the expected worst case is about the
 * flush interval plus one planning interval plus the time to move one small range.
 */
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { decodeJson, type PartitionState, partitionPath, ZkSession } from '@sluice/shared';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { BenchCluster } from './cluster.ts';
import { deletePrefix } from './e2e.ts';
import type { BenchEnv } from './stack.ts';

export interface LatencyResult {
  flushIntervalMs: number;
  planIntervalMs: number;
  seconds: number;
  records: number;
  objects: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  minMs: number;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

export interface LatencyOptions {
  env: BenchEnv;
  s3: S3Client;
  bucket: string;
  name: string;
  seconds: number;
  recordsPerSecond: number;
  flushIntervalMs: number;
  log: (s: string) => void;
}

/** Waits (up to 30 s) until ListOffsets answers for every partition of `topic`. */
async function untilHosted(admin: Admin, topic: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await admin.fetchTopicOffsets(topic);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

export async function measureLatency(o: LatencyOptions): Promise<LatencyResult> {
  const { env, s3, bucket } = o;
  const topic = `${o.name}-topic`;
  const prefix = o.name;
  // Retries past kafkajs's default 5: a just-created topic can take seconds to be hosted on a loaded box.
  const kafka = new Kafka({
    clientId: 'sluice-bench',
    brokers: env.brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 10 },
  });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [{ topic, numPartitions: 2, replicationFactor: 1 }],
    waitForLeaders: true,
  });
  // createTopics waits for leaders in the controller's view; the broker may still answer "does
  // not host this topic-partition" for a moment. A first send that met it failed the attempt,
  // and kafkajs's producer then left a socket and two timers open for the rest of the whole
  // run (2026-12-08: `logOpen` named this section). Listing the offsets succeeds only once the
  // leader hosts every partition.
  await untilHosted(admin, topic);
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const cluster = new BenchCluster(env, o.name);
  const zk = await ZkSession.open({ connect: `${env.zookeeper}${cluster.chroot}`, sessionTimeoutMs: 10_000 });
  const seen = new Map<string, number>();
  let polling = true;
  const poll = async () => {
    while (polling) {
      try {
        let token: string | undefined;
        do {
          const res = await s3.send(
            new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}/`, ContinuationToken: token }),
          );
          const now = Date.now();
          for (const obj of res.Contents ?? []) {
            const key = obj.Key as string;
            if (!key.includes('/_sluice/') && !seen.has(key)) seen.set(key, now);
          }
          token = res.IsTruncated ? res.NextContinuationToken : undefined;
        } while (token);
      } catch {
        // the next listing will tell
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  try {
    const master = await cluster.startMaster();
    await cluster.startWorker({ SLUICE_WORKER_CONCURRENCY: '2' });
    const res = await fetch(`${master.url}/api/v1/topics`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cluster.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        topic,
        destination: { bucket, prefix },
        format: 'jsonl',
        compression: 'gzip',
        flushIntervalMs: o.flushIntervalMs,
      }),
    });
    if (res.status !== 201) throw new Error(`registration answered ${res.status}: ${await res.text()}`);
    const poller = poll();
    const tickMs = 50;
    const perTick = Math.max(1, Math.round((o.recordsPerSecond * tickMs) / 1000));
    const until = Date.now() + o.seconds * 1000;
    let seq = 0;
    while (Date.now() < until) {
      const t = Date.now();
      await producer.send({
        topic,
        messages: Array.from({ length: perTick }, () => ({
          value: JSON.stringify({ seq: seq++, sentAt: new Date().toISOString(), level: 'info' }),
        })),
      });
      await new Promise((r) => setTimeout(r, Math.max(0, tickMs - (Date.now() - t))));
    }
    const offsets = await admin.fetchTopicOffsets(topic);
    // Everything committed, and one more listing after that.
    const deadline = Date.now() + o.flushIntervalMs * 4 + 60_000;
    for (;;) {
      let done = true;
      for (const p of offsets) {
        const node = await zk.get(partitionPath(topic, p.partition));
        const committed = node
          ? BigInt(decodeJson<PartitionState>(node.data, 'partition').committedOffset)
          : -1n;
        if (committed < BigInt(p.high)) done = false;
      }
      if (done) break;
      if (Date.now() > deadline) throw new Error('latency topic not committed in time');
      await new Promise((r) => setTimeout(r, 200));
    }
    await new Promise((r) => setTimeout(r, 500));
    polling = false;
    await poller;

    const latencies: number[] = [];
    for (const [key, at] of seen) {
      const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const bytes = Buffer.from(
        await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
      );
      for (const line of gunzipSync(bytes).toString('utf8').split('\n')) {
        if (!line) continue;
        const rec = JSON.parse(line) as { timestamp: number };
        latencies.push(at - rec.timestamp);
      }
    }
    latencies.sort((a, b) => a - b);
    const produced = offsets.reduce((n, p) => n + Number(p.high), 0);
    if (latencies.length !== produced) {
      throw new Error(`objects hold ${latencies.length} records, ${produced} were produced`);
    }
    return {
      flushIntervalMs: o.flushIntervalMs,
      planIntervalMs: 1000,
      seconds: o.seconds,
      records: latencies.length,
      objects: seen.size,
      p50Ms: quantile(latencies, 0.5),
      p95Ms: quantile(latencies, 0.95),
      p99Ms: quantile(latencies, 0.99),
      maxMs: latencies.at(-1) ?? Number.NaN,
      minMs: latencies[0] ?? Number.NaN,
    };
  } finally {
    polling = false;
    await cluster.stop().catch(() => {});
    await zk.close().catch(() => {});
    await cluster.clean().catch(() => {});
    await producer.disconnect().catch(() => {});
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect().catch(() => {});
    await deletePrefix(s3, bucket, `${prefix}/`).catch(() => {});
  }
}
