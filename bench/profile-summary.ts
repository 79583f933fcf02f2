/**
 * Summarises a V8 CPU profile (`node --cpu-prof` writes `*.cpuprofile`): self time by
 * function and by file, heaviest first, so that hot spots can be read without DevTools.
 *
 *   node bench/profile-summary.ts <file.cpuprofile> [--top 25] [--packages]
 *
 * `--packages` adds the time spent inside each npm package and each of Sluice's source
 * folders, counting what they call (a start-up's `require` of a dependency is counted to the
 * package that asks for it and to the one loaded): which modules a start pays for.
 *
 * A function in a script with a source map beside it (`<file>.map`: the programs' bundles in
 * `dist/bundle/`, and the packages that ship theirs, such as ajv) is named by its place in the
 * original file, so that files and packages read the same as in a profile of the unbundled
 * build.
 */
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber?: number };
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
  untilMs = Number.POSITIVE_INFINITY,
): { totalMs: number; functions: HotSpot[]; files: HotSpot[] } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  let atMs = 0;
  for (let i = 0; i < samples.length; i++) {
    const id = samples[i] as number;
    atMs += (deltas[i] ?? 0) / 1000;
    if (atMs < sinceMs || atMs > untilMs) continue;
    self.set(id, (self.get(id) ?? 0) + (deltas[i] ?? 0) / 1000);
  }
  const totalMs = Math.max(0, Math.min((p.endTime - p.startTime) / 1000, untilMs) - sinceMs);
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

/** The npm package, or the Sluice package and folder, a script URL belongs to. */
function packageOf(url: string): string | undefined {
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const parts = url.slice(nm + 'node_modules/'.length).split('/');
    return (parts[0] ?? '').startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  const m = /\/packages\/([^/]+)\/(?:dist|src)\/(?:([^/]+)\/)?/.exec(url);
  if (m) return `sluice ${m[1]}${m[2] ? `/${m[2]}` : ''}`;
  return undefined;
}

/**
 * Time per package including its callees: each sample counts once for every package on its
 * stack, so shares add up to more than 100 %.
 */
export function packageTimes(p: Profile, top = 25): HotSpot[] {
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const totalMs = (p.endTime - p.startTime) / 1000;
  const times = new Map<string, number>();
  const samples = p.samples ?? [];
  for (let i = 0; i < samples.length; i++) {
    const ms = (p.timeDeltas?.[i] ?? 0) / 1000;
    const seen = new Set<string>();
    for (let id: number | undefined = samples[i]; id !== undefined; id = parent.get(id)) {
      const key = packageOf(byId.get(id)?.callFrame.url ?? '');
      if (key) seen.add(key);
    }
    for (const key of seen) times.set(key, (times.get(key) ?? 0) + ms);
  }
  return [...times.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, ms]) => ({ name, ms, share: ms / totalMs }));
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

/** Rewrites, in place, the frames of bundled scripts to their original files and lines. */
export function unbundle(p: Profile): Profile {
  const maps = new Map<string, SourceMap | null>();
  const mapOf = (url: string): SourceMap | null => {
    if (!maps.has(url)) {
      let map: SourceMap | null = null;
      try {
        const path = `${fileURLToPath(url)}.map`;
        if (existsSync(path)) map = new SourceMap(JSON.parse(readFileSync(path, 'utf8')));
      } catch {
        // not a file URL, or no readable map: the frame stays as it is
      }
      maps.set(url, map);
    }
    return maps.get(url) ?? null;
  };
  for (const n of p.nodes) {
    const f = n.callFrame;
    if (!f.url.startsWith('file:') || f.lineNumber < 0) continue;
    const map = mapOf(f.url);
    const at = map?.findEntry(f.lineNumber, f.columnNumber ?? 0);
    if (!at || !('originalSource' in at) || !at.originalSource) continue;
    f.url = new URL(at.originalSource, f.url).href;
    f.lineNumber = at.originalLine;
    f.columnNumber = at.originalColumn;
  }
  return p;
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '25' }, packages: { type: 'boolean', default: false } },
  });
  const file = positionals[0];
  if (!file) {
    process.stderr.write('usage: node bench/profile-summary.ts <file.cpuprofile> [--top 25] [--packages]\n');
    process.exit(2);
  }
  const profile = unbundle(JSON.parse(readFileSync(file, 'utf8')) as Profile);
  process.stdout.write(`${formatSummary(summarise(profile, Number(values.top)))}\n`);
  if (values.packages) {
    process.stdout.write('time by package, with what it calls:\n');
    for (const h of packageTimes(profile, Number(values.top))) {
      process.stdout.write(
        `${(h.share * 100).toFixed(1).padStart(5)} %  ${h.ms.toFixed(0).padStart(7)} ms  ${h.name}\n`,
      );
    }
  }
}
