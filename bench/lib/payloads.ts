/**
 * Record values for the benchmark: JSON log events of about 100 B and about 1 KiB, made by a
 * seeded generator so that every run produces the same payload file (and so the same
 * compression ratios). Kafka's ProducerPerformance picks one line of the file per record.
 */

/** A small deterministic PRNG (mulberry32): the same seed gives the same events. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LEVELS = ['info', 'info', 'info', 'warn', 'debug', 'error'];
const METHODS = ['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE'];
const PATHS = ['/v1/items', '/v1/users', '/v1/orders', '/v2/search', '/v1/carts', '/healthz'];
const AGENTS = [
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  'okhttp/4.12.0',
  'curl/8.5.0',
];
const WORDS =
  'alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau upsilon phi chi psi omega'.split(
    ' ',
  );

function hex(r: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(r() * 16).toString(16);
  return s;
}

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)] as T;
}

/** One event of about `targetBytes` bytes (UTF-8, one line). */
function event(r: () => number, targetBytes: number, t0: number): string {
  const base = {
    ts: t0 + Math.floor(r() * 3_600_000),
    level: pick(r, LEVELS),
    svc: `api-${Math.floor(r() * 16)}`,
    msg: `${pick(r, METHODS)} ${pick(r, PATHS)}/${Math.floor(r() * 100000)}`,
    ms: Math.floor(r() * 500),
  };
  if (targetBytes <= 160) {
    let s = JSON.stringify(base);
    while (s.length < targetBytes - 12) s = JSON.stringify({ ...base, tag: pick(r, WORDS) + (s.length % 7) });
    return s;
  }
  const big: Record<string, unknown> = {
    ...base,
    trace: hex(r, 32),
    span: hex(r, 16),
    user: {
      id: Math.floor(r() * 1e9),
      country: pick(r, ['DE', 'US', 'FR', 'BR', 'IN', 'JP']),
      plan: pick(r, ['free', 'pro', 'team']),
    },
    http: {
      status: pick(r, [200, 200, 200, 201, 304, 404, 500]),
      bytes: Math.floor(r() * 1e6),
      agent: pick(r, AGENTS),
    },
    tags: [pick(r, WORDS), pick(r, WORDS), pick(r, WORDS)],
  };
  let note = '';
  while (JSON.stringify({ ...big, note }).length < targetBytes) note += `${pick(r, WORDS)} `;
  big.note = note.trimEnd();
  return JSON.stringify(big);
}

/** `count` distinct events of about `targetBytes` each, joined by `\n` (a payload file). */
export function payloadFile(targetBytes: number, count: number, seed = 1): string {
  const r = rng(seed * 7919 + targetBytes);
  const t0 = Date.UTC(2026, 10, 25, 8);
  const lines: string[] = [];
  for (let i = 0; i < count; i++) lines.push(event(r, targetBytes, t0));
  return lines.join('\n');
}

/** Mean UTF-8 length of the file's lines: what one record's value weighs. */
export function meanLineBytes(file: string): number {
  const lines = file.split('\n');
  return Buffer.byteLength(file) / lines.length - (lines.length - 1) / lines.length;
}

/**
 * The inline schema of these events, for the Parquet runs: every field the generator writes
 * (`tag` only in the small events, `trace` to `note` only in the large ones: nullable columns).
 */
export const PAYLOAD_SCHEMA = {
  source: 'inline',
  fields: [
    { name: 'ts', type: 'timestamp' },
    { name: 'level', type: 'string' },
    { name: 'svc', type: 'string' },
    { name: 'msg', type: 'string' },
    { name: 'ms', type: 'int32' },
    { name: 'tag', type: 'string' },
    { name: 'trace', type: 'string' },
    { name: 'span', type: 'string' },
    {
      name: 'user',
      type: 'struct',
      fields: [
        { name: 'id', type: 'int64' },
        { name: 'country', type: 'string' },
        { name: 'plan', type: 'string' },
      ],
    },
    {
      name: 'http',
      type: 'struct',
      fields: [
        { name: 'status', type: 'int32' },
        { name: 'bytes', type: 'int64' },
        { name: 'agent', type: 'string' },
      ],
    },
    { name: 'tags', type: 'list', items: { type: 'string' } },
    { name: 'note', type: 'string' },
  ],
} as const;

/** A field that the small or the large events may leave out: Avro's nullable union. */
const optional = (name: string, type: unknown) => ({ name, type: ['null', type], default: null });

/** A nested Avro record of required fields, `{ name: type }` in field order. */
const nested = (name: string, fields: Record<string, string>) => ({
  type: 'record',
  name,
  fields: Object.entries(fields).map(([n, type]) => ({ name: n, type })),
});

/**
 * The same events as an Avro record schema, field for field like PAYLOAD_SCHEMA, for the
 * topic whose values are Avro in the Confluent wire format (avro/zstd and parquet from the
 * registry run on the same records as jsonl/zstd).
 */
export const PAYLOAD_AVRO_SCHEMA = {
  type: 'record',
  name: 'BenchEvent',
  namespace: 'sluice.bench',
  fields: [
    { name: 'ts', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'level', type: 'string' },
    { name: 'svc', type: 'string' },
    { name: 'msg', type: 'string' },
    { name: 'ms', type: 'int' },
    optional('tag', 'string'),
    optional('trace', 'string'),
    optional('span', 'string'),
    optional('user', nested('User', { id: 'long', country: 'string', plan: 'string' })),
    optional('http', nested('Http', { status: 'int', bytes: 'long', agent: 'string' })),
    optional('tags', { type: 'array', items: 'string' }),
    optional('note', 'string'),
  ],
} as const;

/** One JSON event as the Avro record: fields it lacks are null (avsc wants them present). */
export function avroRecordOf(line: string): Record<string, unknown> {
  const e = JSON.parse(line) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const f of PAYLOAD_AVRO_SCHEMA.fields) out[f.name] = e[f.name] ?? null;
  return out;
}
