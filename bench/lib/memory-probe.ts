/**
 * Preloaded into a benchmark worker (`--import`): samples `process.memoryUsage()` every 50 ms
 * and keeps each part's peak and all parts at the moment of the highest RSS, written to the
 * file in SLUICE_BENCH_MEMORY_FILE twice a second, so that the memory section can say where a
 * worker's peak RSS goes (V8's heap, Buffers outside it), not only how high it is. A
 * synchronous stretch (a Parquet row group being encoded) is not sampled: VmHWM stays the peak.
 */
import { writeFileSync } from 'node:fs';

const file = process.env.SLUICE_BENCH_MEMORY_FILE;
if (file) {
  const keys = ['rss', 'heapTotal', 'heapUsed', 'external', 'arrayBuffers'] as const;
  const peak = { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
  let atPeakRss: NodeJS.MemoryUsage | null = null;
  let n = 0;
  setInterval(() => {
    const m = process.memoryUsage();
    for (const k of keys) if (m[k] > peak[k]) peak[k] = m[k];
    if (!atPeakRss || m.rss >= atPeakRss.rss) atPeakRss = m;
    if (++n % 10 === 0) writeFileSync(file, JSON.stringify({ peak, atPeakRss }));
  }, 50).unref();
}
