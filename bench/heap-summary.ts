/**
 * Summarises a V8 heap snapshot (`--heapsnapshot-signal`, `v8.writeHeapSnapshot`): self size
 * and count by constructor, largest first, to see what a worker's memory is made of.
 *
 *   node bench/heap-summary.ts <file.heapsnapshot> [--top 20]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

export interface HeapGroup {
  name: string;
  count: number;
  bytes: number;
}

export function summariseHeap(s: Snapshot, top = 20): { totalBytes: number; groups: HeapGroup[] } {
  const fields = s.snapshot.meta.node_fields;
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const types = s.snapshot.meta.node_types[0];
  const groups = new Map<string, HeapGroup>();
  let total = 0;
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + typeAt] as number] ?? '?';
    const size = s.nodes[i + sizeAt] as number;
    total += size;
    // Objects by constructor; everything else by its kind (strings, code, arrays, …).
    const name = type === 'object' ? (s.strings[s.nodes[i + nameAt] as number] ?? '?') : `(${type})`;
    const g = groups.get(name) ?? { name, count: 0, bytes: 0 };
    g.count++;
    g.bytes += size;
    groups.set(name, g);
  }
  return { totalBytes: total, groups: [...groups.values()].sort((a, b) => b.bytes - a.bytes).slice(0, top) };
}

export function formatHeap(h: ReturnType<typeof summariseHeap>): string {
  const mib = (n: number) => (n / 1048576).toFixed(1).padStart(7);
  return [
    `heap: ${mib(h.totalBytes)} MiB (JS objects; Buffer contents live outside it)`,
    ...h.groups.map((g) => `${mib(g.bytes)} MiB ${String(g.count).padStart(9)}  ${g.name}`),
  ].join('\n');
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '20' } },
  });
  const file = positionals[0];
  if (!file) {
    process.stderr.write('usage: node bench/heap-summary.ts <file.heapsnapshot> [--top 20]\n');
    process.exit(2);
  }
  process.stdout.write(
    `${formatHeap(summariseHeap(JSON.parse(readFileSync(file, 'utf8')) as Snapshot, Number(values.top)))}\n`,
  );
}
