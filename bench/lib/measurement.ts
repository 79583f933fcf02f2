/** What every measured step reports, and how a child process hands it to the parent. */

export interface Measurement {
  /** Records handled (0 where records mean nothing, e.g. S3 alone). */
  records: number;
  /** Bytes handled, in the unit the step names (source, encoded or stored bytes). */
  bytes: number;
  wallMs: number;
  /** Process CPU (user + system, every thread) during the step. */
  cpuMs: number;
  /** Peak resident memory of the process, MiB. */
  peakRssMiB: number;
  /** Epoch ms of the step's start and end, to merge steps that ran side by side. */
  startedAt: number;
  endedAt: number;
  extra?: Record<string, number | string>;
}

export const MB = 1e6;

/** MB/s (10^6 bytes). */
export function mbps(m: Pick<Measurement, 'bytes' | 'wallMs'>): number {
  return m.bytes / MB / (m.wallMs / 1000);
}

/** Runs `fn` and measures it in this process. */
export async function measure(
  fn: () => Promise<{ records: number; bytes: number; extra?: Record<string, number | string> }>,
): Promise<Measurement> {
  const startedAt = Date.now();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await fn();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return {
    records: r.records,
    bytes: r.bytes,
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    startedAt,
    endedAt: Date.now(),
    ...(r.extra ? { extra: r.extra } : {}),
  };
}

/** Steps that ran side by side in several processes, as one: first start to last end. */
export function merge(parts: Measurement[]): Measurement {
  const startedAt = Math.min(...parts.map((p) => p.startedAt));
  const endedAt = Math.max(...parts.map((p) => p.endedAt));
  return {
    records: parts.reduce((n, p) => n + p.records, 0),
    bytes: parts.reduce((n, p) => n + p.bytes, 0),
    wallMs: endedAt - startedAt,
    cpuMs: parts.reduce((n, p) => n + p.cpuMs, 0),
    peakRssMiB: Math.max(...parts.map((p) => p.peakRssMiB)),
    startedAt,
    endedAt,
  };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** The run with the median rate among repeats. */
export function medianRun(runs: Measurement[]): Measurement {
  const sorted = [...runs].sort((a, b) => mbps(a) - mbps(b));
  return sorted[Math.floor((sorted.length - 1) / 2)] as Measurement;
}
