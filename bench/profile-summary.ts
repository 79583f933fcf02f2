/**
 * Summarises a V8 CPU profile (`node --cpu-prof` writes `*.cpuprofile`): self time by
 * function and by file, heaviest first, so that hot spots can be read without DevTools.
 *
 *   node bench/profile-summary.ts <file.cpuprofile> [--top 25]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface HotSpot {
  name: string;
  ms: number;
  share: number;
}

function shortUrl(url: string): string {
  if (!url) return '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  const pk = url.indexOf('/packages/');
  if (pk >= 0) return url.slice(pk + 1);
  return url.replace(/^file:\/\//, '').replace(/^node:/, 'node:');
}

/**
 * Self time per function and per file of one profile; with `sinceMs`, only of the samples
 * taken that long after the profile started (an idle window without the start-up before it).
 */
export function summarise(
  p: Profile,
  top = 25,
  sinceMs = 0,
): { totalMs: number; functions: HotSpot[]; files: HotSpot[] } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  let atMs = 0;
  for (let i = 0; i < samples.length; i++) {
    const id = samples[i] as number;
    atMs += (deltas[i] ?? 0) / 1000;
    if (atMs < sinceMs) continue;
    self.set(id, (self.get(id) ?? 0) + (deltas[i] ?? 0) / 1000);
  }
  const totalMs = Math.max(0, (p.endTime - p.startTime) / 1000 - sinceMs);
  const fn = new Map<string, number>();
  const file = new Map<string, number>();
  for (const [id, ms] of self) {
    const n = byId.get(id);
    if (!n) continue;
    const f = n.callFrame;
    const where = shortUrl(f.url);
    const name = `${f.functionName || '(anonymous)'} ${where}${f.url ? `:${f.lineNumber + 1}` : ''}`;
    fn.set(name, (fn.get(name) ?? 0) + ms);
    const fileKey = f.url ? where : f.functionName || '(native)';
    file.set(fileKey, (file.get(fileKey) ?? 0) + ms);
  }
  const rank = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, ms]) => ({ name, ms, share: ms / totalMs }));
  return { totalMs, functions: rank(fn), files: rank(file) };
}

export function formatSummary(s: ReturnType<typeof summarise>): string {
  const line = (h: HotSpot) =>
    `${(h.share * 100).toFixed(1).padStart(5)} %  ${h.ms.toFixed(0).padStart(7)} ms  ${h.name}`;
  return [
    `profile: ${s.totalMs.toFixed(0)} ms`,
    'self time by function:',
    ...s.functions.map(line),
    'self time by file:',
    ...s.files.map(line),
  ].join('\n');
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '25' } },
  });
  const file = positionals[0];
  if (!file) {
    process.stderr.write('usage: node bench/profile-summary.ts <file.cpuprofile> [--top 25]\n');
    process.exit(2);
  }
  process.stdout.write(
    `${formatSummary(summarise(JSON.parse(readFileSync(file, 'utf8')) as Profile, Number(values.top)))}\n`,
  );
}
