/**
 * How well the README's memory formula (lib/memory.ts) predicts the peak RSS of the workers of
 * whole `npm run bench` runs, and which constants would predict it best: the refit of the
 * formula, repeatable.
 *
 *   node --conditions=source bench/memory-fit.ts [--runs 5] [--search] [<results.json | commit> ...]
 *
 * Sources: results.json files, or commits whose bench/results.json is read (`git show`);
 * none: the last `--runs` commits whose bench/results.json is a whole run (not --quick) with a
 * memory section. Every worker run of their memory and end-to-end sections is one point: its
 * format, concurrency, mean record bytes, mean range bytes and peak RSS (VmHWM).
 *
 * Prints, with the formula's constants as they are: peak / formula over all points and per
 * run, the median, and the points at each end. `--search`: the constants (base, bytes held per
 * record, Parquet row groups) that keep the worst point closest to 1×, over all the runs and
 * with each run left out in turn (a fit that holds only with one run in it is a fit to noise).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Format } from '@sluice/shared';
import {
  DEFAULT_MEMORY_SETTINGS,
  FORMULA_CONSTANTS,
  type FormulaConstants,
  memoryFormulaMiB,
} from './lib/memory.ts';

const REPO = join(import.meta.dirname, '..');

interface Point {
  run: string;
  name: string;
  format: Format;
  concurrency: number;
  recordBytes: number;
  rangeBytes: number;
  peakMiB: number;
}

interface ResultsFile {
  quick?: boolean;
  startedAt?: string;
  memory?: Array<{
    dataset: string;
    format: Format;
    compression: string;
    concurrency: number;
    recordBytes: number;
    rangeMessages: number;
    rangeMB: number;
    peakRssMiB: number;
  }>;
  e2e?: Array<{
    dataset?: string;
    note?: string;
    config: { workers: number; concurrency: number; format: Format; compression: string };
    bytes: number;
    records: number;
    ranges: number;
    peakRssMiB: number;
  }>;
}

function git(...args: string[]): string {
  return execFileSync('git', args, { cwd: REPO, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
}

function load(source: string): ResultsFile {
  const text = existsSync(source)
    ? readFileSync(source, 'utf8')
    : git('show', `${source}:bench/results.json`);
  return JSON.parse(text) as ResultsFile;
}

function isWholeWithMemory(r: ResultsFile): boolean {
  return r.quick !== true && (r.memory?.length ?? 0) > 0;
}

/** The last `n` commits whose bench/results.json is a whole run with a memory section. */
function lastWholeRuns(n: number): string[] {
  const out: string[] = [];
  for (const commit of git('log', '--format=%h', '--', 'bench/results.json').split('\n')) {
    if (out.length === n) break;
    if (commit === '') continue;
    if (isWholeWithMemory(load(commit))) out.push(commit);
  }
  return out;
}

function points(run: string, r: ResultsFile): Point[] {
  const out: Point[] = [];
  for (const m of r.memory ?? []) {
    out.push({
      run,
      name: `memory ${m.dataset} ${m.format}/${m.compression} c${m.concurrency} ${m.rangeMessages}`,
      format: m.format,
      concurrency: m.concurrency,
      recordBytes: m.recordBytes,
      rangeBytes: m.rangeMB * 1e6,
      peakMiB: m.peakRssMiB,
    });
  }
  for (const e of r.e2e ?? []) {
    const c = e.config;
    out.push({
      run,
      name: `e2e ${e.dataset ?? ''} ${c.format}/${c.compression} ${c.workers}×${c.concurrency}${e.note ? ` (${e.note})` : ''}`,
      format: c.format,
      concurrency: c.concurrency,
      recordBytes: e.bytes / e.records,
      rangeBytes: e.bytes / e.ranges,
      peakMiB: e.peakRssMiB,
    });
  }
  return out;
}

function ratio(p: Point, k: FormulaConstants): number {
  const formula = memoryFormulaMiB(
    p.format,
    { ...DEFAULT_MEMORY_SETTINGS, concurrency: p.concurrency },
    p.recordBytes,
    p.rangeBytes,
    k,
  );
  return p.peakMiB / formula;
}

/** Lowest and highest peak / formula over `pts`. */
function spread(pts: Point[], k: FormulaConstants): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = 0;
  for (const p of pts) {
    const x = ratio(p, k);
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  return [lo, hi];
}

const worst = ([lo, hi]: [number, number]): number => Math.max(hi - 1, 1 - lo);
const f3 = (x: number): string => x.toFixed(3);
const range = ([lo, hi]: [number, number]): string => `${f3(lo)}-${f3(hi)}×`;
const constantsText = (k: FormulaConstants): string =>
  `base ${k.baseMiB} MiB, ${k.recordHeldBytes} B per record, Parquet ${k.parquetRowGroups} row groups`;

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { runs: { type: 'string', default: '5' }, search: { type: 'boolean', default: false } },
  });
  const sources = positionals.length > 0 ? positionals : lastWholeRuns(Number(values.runs));
  if (sources.length === 0)
    throw new Error('no whole run with a memory section found: name results.json files or commits');
  const byRun = sources.map((s) => {
    const r = load(s);
    if (!isWholeWithMemory(r)) console.log(`note: ${s} is not a whole run with a memory section`);
    return { run: s, startedAt: r.startedAt ?? '?', pts: points(s, r) };
  });
  const all = byRun.flatMap((r) => r.pts);
  const k = FORMULA_CONSTANTS;
  console.log(`formula as it is: ${constantsText(k)}`);
  console.log(
    `${all.length} worker runs in ${byRun.length} whole runs: peak / formula ${range(spread(all, k))}`,
  );
  for (const r of byRun)
    console.log(`  ${r.run} (${r.startedAt}): ${r.pts.length} runs, ${range(spread(r.pts, k))}`);
  const sorted = all.map((p) => ({ p, x: ratio(p, k) })).sort((a, b) => a.x - b.x);
  console.log(`median ${f3(sorted[Math.floor(sorted.length / 2)]?.x ?? Number.NaN)}×`);
  const show = (e: { p: Point; x: number }): string =>
    `  ${f3(e.x)}×  ${e.p.run} ${e.p.name}: peak ${e.p.peakMiB.toFixed(0)} MiB, range ${(e.p.rangeBytes / 1e6).toFixed(1)} MB`;
  console.log('lowest:');
  for (const e of sorted.slice(0, 5)) console.log(show(e));
  console.log('highest:');
  for (const e of sorted.slice(-5)) console.log(show(e));
  if (!values.search) return;

  const fits: Array<{ k: FormulaConstants; s: [number, number] }> = [];
  for (let baseMiB = 240; baseMiB <= 300; baseMiB += 5) {
    for (let recordHeldBytes = 224; recordHeldBytes <= 448; recordHeldBytes += 32) {
      for (let parquetRowGroups = 1; parquetRowGroups <= 4; parquetRowGroups += 0.5) {
        const c = { baseMiB, recordHeldBytes, parquetRowGroups };
        fits.push({ k: c, s: spread(all, c) });
      }
    }
  }
  fits.sort((a, b) => worst(a.s) - worst(b.s));
  console.log('best constants over all runs (worst point closest to 1×):');
  for (const f of fits.slice(0, 8)) console.log(`  ${range(f.s)}  ${constantsText(f.k)}`);
  console.log('each run left out in turn, with the formula as it is and with the best fit:');
  for (const c of [k, fits[0]!.k]) {
    const out = byRun.map(
      (r) =>
        `without ${r.run} ${range(
          spread(
            all.filter((p) => p.run !== r.run),
            c,
          ),
        )}`,
    );
    console.log(`  ${constantsText(c)}: ${out.join(', ')}`);
  }
}

main();
