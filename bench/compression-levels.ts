/**
 * `node --conditions=source bench/compression-levels.ts [MB]`: the measurement behind
 * `compressionLevel`'s defaults. The benchmark's 1 KiB JSON events as `raw` lines (in the
 * order ProducerPerformance would pick them: uniformly from the payload file), through the
 * worker's own compressor in its chunks (CHUNK_BYTES), at each level worth a default: CPU seconds
 * per GB of input (the whole process: zlib runs on libuv's threadpool) and the ratio.
 * No service needed; prints a Markdown table (bench/README.md, "Compression levels").
 */
import type { Compression } from '@sluice/shared';
import { createCompressor } from '../packages/worker/src/compressor.ts';
import { CHUNK_BYTES } from '../packages/worker/src/range-writer.ts';
import { payloadFile } from './lib/payloads.ts';

const mb = Number(process.argv[2] ?? 64);
const lines = payloadFile(1024, 20_000).split('\n');
const parts: string[] = [];
let seed = 42;
for (let size = 0; size < mb * 1e6; ) {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  const line = lines[seed % lines.length] as string;
  parts.push(line, '\n');
  size += line.length + 1;
}
const input = Buffer.from(parts.join(''));

async function run(compression: Exclude<Compression, 'none'>, level: number): Promise<[number, number]> {
  const c = createCompressor(compression, level);
  let out = 0;
  c.on('data', (d: Buffer) => {
    out += d.length;
  });
  const done = new Promise((resolve, reject) => c.on('end', resolve).on('error', reject));
  const cpu0 = process.cpuUsage();
  for (let at = 0; at < input.length; at += CHUNK_BYTES) {
    if (!c.write(input.subarray(at, at + CHUNK_BYTES))) await new Promise((r) => c.once('drain', r));
  }
  c.end();
  await done;
  const cpu = process.cpuUsage(cpu0);
  return [(cpu.user + cpu.system) / 1e6 / (input.length / 1e9), input.length / out];
}

process.stdout.write(`${(input.length / 1e6).toFixed(0)} MB of 1 KiB JSON lines\n\n`);
process.stdout.write('| codec | level | CPU s per GB | ratio |\n|---|---:|---:|---:|\n');
for (const [compression, levels] of [
  ['zstd', [1, 2, 3, 6]],
  ['gzip', [1, 4, 5, 6, 9]],
] as const) {
  for (const level of levels) {
    await run(compression, level); // warm-up
    const [cpu, ratio] = await run(compression, level);
    process.stdout.write(`| ${compression} | ${level} | ${cpu.toFixed(1)} | ${ratio.toFixed(2)} |\n`);
  }
}
