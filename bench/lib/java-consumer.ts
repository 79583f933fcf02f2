/**
 * Baseline: Kafka's own Java consumer throughput tool (ConsumerPerformance, from the stack's
 * Kafka) reading the whole topic: what the broker can serve to one consumer here. It joins a
 * fresh consumer group (its time to join is left out: `fetch.time.ms` is the reading alone),
 * reads read_committed with the worker's fetch size, and its process is sampled from /proc
 * for CPU and peak memory.
 */
import { spawn } from 'node:child_process';
import type { Measurement } from './measurement.ts';
import { cpuSeconds, peakRssMiB } from './proc-stats.ts';

export interface JavaConsumerInput {
  kafkaHome: string;
  brokers: string[];
  topic: string;
  records: number;
  /** Key + value bytes of those records (the tool's own MB count uses 2^20). */
  bytes: number;
  fetchBytes: number;
}

export async function javaConsumer(input: JavaConsumerInput): Promise<Measurement> {
  const group = `bench-perf-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`;
  const startedAt = Date.now();
  const child = spawn(
    'java',
    [
      '-Xmx768m',
      '-cp',
      `${input.kafkaHome}/libs/*`,
      'org.apache.kafka.tools.ConsumerPerformance',
      '--bootstrap-server',
      input.brokers.join(','),
      '--topic',
      input.topic,
      '--num-records',
      String(input.records),
      '--group',
      group,
      '--fetch-size',
      String(input.fetchBytes),
      '--command-property',
      'isolation.level=read_committed',
      '--timeout',
      '60000',
      '--hide-header',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  let cpu = 0;
  let rss = 0;
  const pid = child.pid as number;
  const sample = () => {
    try {
      cpu = cpuSeconds(pid);
      rss = Math.max(rss, peakRssMiB(pid));
    } catch {
      // exited between two samples
    }
  };
  const timer = setInterval(sample, 50);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearInterval(timer);
  if (code !== 0) throw new Error(`ConsumerPerformance exited ${code}: ${stderr.slice(-2000)}`);
  // start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec,
  // rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
  const line =
    stdout
      .trim()
      .split('\n')
      .filter((l) => /\d/.test(l))
      .at(-1) ?? '';
  const cols = line.split(',').map((s) => s.trim());
  const records = Number(cols[4]);
  const fetchMs = Number(cols[7]);
  if (!(records > 0) || !(fetchMs > 0))
    throw new Error(`cannot read ConsumerPerformance's answer: ${stdout}`);
  if (records < input.records)
    throw new Error(`ConsumerPerformance read ${records} of ${input.records} records`);
  return {
    records,
    bytes: input.bytes,
    wallMs: fetchMs,
    cpuMs: cpu * 1000,
    peakRssMiB: rss,
    startedAt,
    endedAt: Date.now(),
    extra: { rebalanceMs: Number(cols[6]), processWallMs: Date.now() - startedAt },
  };
}
