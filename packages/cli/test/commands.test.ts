/**
 * What `sluice` sends and says for the commands of issue 17: `topics update` (a PATCH of only
 * the options given, sizes and durations in human units), `--version`, an option given to a
 * command it does not belong to, and the completion script run by bash itself. Checked
 * against a local HTTP server that records each request (no Sluice service needed).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { EXIT } from '../src/api-client.ts';
import { run } from '../src/main.ts';

interface Seen {
  method: string;
  url: string;
  body: unknown;
}
const seen: Seen[] = [];
const stored = { topic: 't', destination: { bucket: 'old-bucket', prefix: 'old/prefix' }, paused: false };
const server = createServer((req, res) => {
  let text = '';
  req.on('data', (c) => {
    text += c;
  });
  req.on('end', () => {
    const body = text ? JSON.parse(text) : undefined;
    seen.push({ method: req.method ?? '', url: req.url ?? '', body });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ...stored, ...body }));
  });
});
let url = '';

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

/** Runs the CLI in-process; its exit code and what it printed. */
async function sluice(args: string[]): Promise<{ code: number; stdout: string; message: string }> {
  seen.length = 0;
  let stdout = '';
  const write = process.stdout.write;
  // The CLI writes strings; the test runner's own reports (binary chunks) must still pass.
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    if (typeof chunk !== 'string') return write.call(process.stdout, chunk, ...rest);
    stdout += chunk;
    return true;
  }) as typeof process.stdout.write;
  try {
    return { code: await run([...args, '--api-url', url], {}), stdout, message: '' };
  } catch (e) {
    const err = e as Error & { exitCode?: number };
    return { code: err.exitCode ?? -1, stdout, message: err.message };
  } finally {
    process.stdout.write = write;
  }
}

test('topics update PATCHes only the options given, sizes and durations turned into bytes and ms', async () => {
  const r = await sluice([
    'topics',
    'update',
    't',
    '--max-range-bytes',
    '256MiB',
    '--flush-interval-ms',
    '10m',
    '--finalize-lateness-ms',
    '90s',
    '--compression',
    'zstd',
  ]);
  assert.equal(r.code, EXIT.OK, r.message);
  assert.deepEqual(seen, [
    {
      method: 'PATCH',
      url: '/api/v1/topics/t',
      body: {
        compression: 'zstd',
        maxRangeBytes: 268_435_456,
        flushIntervalMs: 600_000,
        finalizeLatenessMs: 90_000,
      },
    },
  ]);
  assert.match(r.stdout, /^updated t \(ranges planned from now on follow it\):\n {2}compression: zstd\n/);
  assert.match(r.stdout, / {2}maxRangeBytes: 268435456\n/);
});

test('topics update --prefix alone keeps the bucket it has; an update of nothing is refused', async () => {
  const r = await sluice(['topics', 'update', 't', '--prefix', 'new/prefix']);
  assert.equal(r.code, EXIT.OK, r.message);
  assert.deepEqual(
    seen.map((s) => [s.method, s.url, s.body]),
    [
      ['GET', '/api/v1/topics/t', undefined],
      ['PATCH', '/api/v1/topics/t', { destination: { bucket: 'old-bucket', prefix: 'new/prefix' } }],
    ],
  );
  const nothing = await sluice(['topics', 'update', 't']);
  assert.equal(nothing.code, EXIT.USAGE);
  assert.match(nothing.message, /^sluice topics update t changes nothing: give an option to change/);
  assert.equal(seen.length, 0);
});

test('topics add takes human units too; a bad one is refused before anything is sent', async () => {
  const r = await sluice([
    'topics',
    'add',
    't',
    '--bucket',
    'b',
    '--max-range-bytes',
    '1GB',
    '--flush-interval-ms',
    '5s',
  ]);
  assert.equal(r.code, EXIT.OK, r.message);
  assert.deepEqual(seen[0]?.body, {
    topic: 't',
    destination: { bucket: 'b', prefix: '' },
    maxRangeBytes: 1_000_000_000,
    flushIntervalMs: 5_000,
  });
  const bad = await sluice(['topics', 'add', 't', '--bucket', 'b', '--flush-interval-ms', 'soon']);
  assert.equal(bad.code, EXIT.USAGE);
  assert.match(bad.message, /^--flush-interval-ms "soon" is not a duration; give /);
  assert.equal(seen.length, 0);
});

test('an option of another command exits 2 naming the option and the commands it belongs to; nothing is sent', async () => {
  const r = await sluice(['status', '--bucket', 'b']);
  assert.equal(r.code, EXIT.USAGE);
  assert.equal(
    r.message,
    '--bucket is an option of "sluice topics add", "sluice topics update", "sluice patterns add", "sluice replay start", "sluice recover", not of "sluice status" (sluice status --help lists its options)',
  );
  const deep = await sluice(['topics', 'pause', 't', '--deep']);
  assert.equal(deep.code, EXIT.USAGE);
  assert.match(deep.message, /^--deep is an option of "sluice audit", not of "sluice topics pause"/);
  const startFrom = await sluice(['topics', 'update', 't', '--start-from', 'latest']);
  assert.equal(startFrom.code, EXIT.USAGE);
  assert.match(
    startFrom.message,
    /^--start-from is an option of "sluice topics add", "sluice patterns add", not of "sluice topics update"/,
  );
  assert.equal(seen.length, 0);
  assert.equal(
    (await sluice(['topics', 'pause', 't', '--json'])).code,
    EXIT.OK,
    'global options go with every command',
  );
});

test('--version prints the version of the CLI package', async () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  const r = await sluice(['--version']);
  assert.equal(r.code, EXIT.OK);
  assert.equal(r.stdout, `${pkg.version}\n`);
});

test('the bash completion completes commands, verbs, the options of the command typed, and fixed values', async () => {
  const script = (await sluice(['completion', 'bash'])).stdout;
  const complete = (...words: string[]) =>
    execFileSync(
      'bash',
      [
        '-c',
        `${script}\nCOMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _sluice; echo "\${COMPREPLY[*]}"`,
        'bash',
        ...words,
      ],
      { encoding: 'utf8' },
    ).trim();
  assert.equal(complete('sluice', 'st'), 'status');
  assert.equal(complete('sluice', 'topics', 'u'), 'update');
  assert.equal(
    complete('sluice', 'topics', 'add', 'x', '--max-range-'),
    '--max-range-messages --max-range-bytes',
  );
  assert.equal(complete('sluice', 'status', '--'), '--api-url --token --token-file --json --help --version');
  assert.equal(complete('sluice', 'topics', 'update', 't', '--start'), '', 'not an option of topics update');
  assert.equal(complete('sluice', 'topics', 'add', 't', '--compression', ''), 'gzip zstd none deflate');
  assert.equal(complete('sluice', 'completion', ''), 'bash zsh');
  const zsh = (await sluice(['completion', 'zsh'])).stdout;
  assert.match(zsh, /^#compdef sluice\n/);
  assert.ok(zsh.includes('bashcompinit') && zsh.includes('complete -F _sluice sluice'));
  const fish = await sluice(['completion', 'fish']);
  assert.equal(fish.code, EXIT.USAGE);
  assert.match(fish.message, /needs the shell: bash or zsh \(not "fish"\)/);
});

test('topics add --start-from names where another pipeline stopped: a group, a time or offsets', async () => {
  const add = (...more: string[]) => sluice(['topics', 'add', 't', '--bucket', 'b', ...more]);
  const bodyOf = async (...more: string[]) => {
    const r = await add(...more);
    assert.equal(r.code, EXIT.OK, r.message);
    return (seen[0]?.body as { startFrom?: unknown } | undefined)?.startFrom;
  };
  assert.deepEqual(await bodyOf('--start-from', 'group=secor_backup', '--start-fallback', 'latest'), {
    consumerGroup: 'secor_backup',
    fallback: 'latest',
  });
  assert.deepEqual(await bodyOf('--start-from', 'time=2026-12-01T00:00:00Z'), {
    timestamp: '2026-12-01T00:00:00Z',
  });
  assert.deepEqual(await bodyOf('--start-from', 'time=1764547200000'), { timestamp: 1764547200000 });
  assert.deepEqual(await bodyOf('--start-from', 'offsets=0=1200,1=980'), {
    offsets: { '0': '1200', '1': '980' },
  });
  assert.equal(await bodyOf('--start-from', 'latest'), 'latest');

  for (const [bad, why] of [
    [['--start-from', 'offsets=0:12'], /<partition>=<offset> pairs/],
    [['--start-from', 'yesterday'], /must be earliest, latest, group=/],
    [['--start-from', 'latest', '--start-fallback', 'latest'], /goes with --start-from group=/],
    [['--start-from', 'group=g', '--start-fallback', 'newest'], /must be earliest or latest/],
  ] as const) {
    const r = await add(...bad);
    assert.equal(r.code, EXIT.USAGE, `${bad.join(' ')} is refused`);
    assert.match(r.message, why);
    assert.equal(seen.length, 0, 'nothing is sent');
  }
});

test('--mirror-group names the consumer group progress is mirrored into; none turns the mirror off', async () => {
  let r = await sluice(['topics', 'update', 't', '--mirror-group', 'none']);
  assert.equal(r.code, EXIT.OK, r.message);
  assert.deepEqual(seen[0]?.body, { mirrorGroup: null });
  r = await sluice(['topics', 'add', 't', '--bucket', 'b', '--mirror-group', 'team.orders']);
  assert.equal(r.code, EXIT.OK, r.message);
  assert.equal((seen[0]?.body as { mirrorGroup?: unknown } | undefined)?.mirrorGroup, 'team.orders');
});

test('--format avro --schema registry registers Avro files of registry-schema values; another --schema is a usage error', async () => {
  const r = await sluice(['topics', 'add', 't', '--bucket', 'b', '--format', 'avro', '--schema', 'registry']);
  assert.equal(r.code, EXIT.OK, r.message);
  const body = seen[0]?.body as { format?: unknown; schema?: unknown } | undefined;
  assert.deepEqual([body?.format, body?.schema], ['avro', { source: 'registry' }]);
  const pq = await sluice([
    'topics',
    'add',
    't',
    '--bucket',
    'b',
    '--format',
    'parquet',
    '--schema',
    'registry',
  ]);
  assert.equal(pq.code, EXIT.OK, pq.message);
  const pqBody = seen.at(-1)?.body as { format?: unknown; schema?: unknown } | undefined;
  assert.deepEqual([pqBody?.format, pqBody?.schema], ['parquet', { source: 'registry' }]);
  const bad = await sluice(['topics', 'add', 't', '--bucket', 'b', '--schema', 'inline']);
  assert.equal(bad.code, EXIT.USAGE);
  assert.match(bad.message, /--schema must be registry or infer, got "inline"/);
  const infer = await sluice([
    'topics',
    'add',
    't',
    '--bucket',
    'b',
    '--format',
    'parquet',
    '--schema',
    'infer',
  ]);
  assert.equal(infer.code, EXIT.OK, infer.message);
  assert.deepEqual((seen[0]?.body as { schema?: unknown } | undefined)?.schema, { source: 'infer' });
});

test('--key-template is sent as the topic keyTemplate, on add and update', async () => {
  const template = '{YYYY}/{MM}/{DD}/{HH}/{field:tenant}/{topic}-{partition}-{start}-{end}';
  let r = await sluice(['topics', 'add', 't', '--bucket', 'b', '--key-template', template]);
  assert.equal(r.code, EXIT.OK, r.message);
  assert.equal((seen[0]?.body as { keyTemplate?: unknown } | undefined)?.keyTemplate, template);
  r = await sluice(['topics', 'update', 't', '--key-template', template]);
  assert.equal(r.code, EXIT.OK, r.message);
  assert.deepEqual(seen[0]?.body, { keyTemplate: template });
});

test('patterns add sends the regex, its exclusions and the policy options as the pattern’s settings', async () => {
  const r = await sluice([
    'patterns',
    'add',
    'orders',
    'orders\\..*',
    '--bucket',
    'lake',
    '--exclude',
    'orders\\.test',
    '--exclude',
    '.*\\.tmp',
    '--flush-interval-ms',
    '5m',
    '--json',
  ]);
  assert.equal(r.code, EXIT.OK, r.message);
  assert.deepEqual(seen, [
    {
      method: 'POST',
      url: '/api/v1/patterns',
      body: {
        name: 'orders',
        pattern: 'orders\\..*',
        exclude: ['orders\\.test', '.*\\.tmp'],
        settings: { destination: { bucket: 'lake', prefix: '' }, flushIntervalMs: 300_000 },
      },
    },
  ]);
  const noRegex = await sluice(['patterns', 'add', 'orders', '--bucket', 'lake']);
  assert.equal(noRegex.code, EXIT.USAGE);
  assert.match(noRegex.message, /needs a name and a regular expression/);
  assert.equal(seen.length, 0, 'nothing is sent');
  const foreign = await sluice(['topics', 'add', 't', '--bucket', 'b', '--exclude', 'x']);
  assert.equal(foreign.code, EXIT.USAGE);
  assert.match(foreign.message, /--exclude is an option of "sluice patterns add"/);
});
