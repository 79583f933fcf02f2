/**
 * Where the CLI takes its bearer token from (issue 18 point 8): --token, --token-file,
 * SLUICE_API_TOKEN or the file SLUICE_API_TOKEN_FILE names; two forms at one level are a usage
 * error. Checked against a local HTTP server that records the Authorization header it gets
 * (no Sluice service needed).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { EXIT } from '../src/api-client.ts';
import { run } from '../src/main.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-cli-token-'));
const seen: (string | undefined)[] = [];
const server = createServer((req, res) => {
  seen.push(req.headers.authorization);
  res.writeHead(200, { 'content-type': 'application/json' }).end('{"topic":"t","paused":true}');
});
let url = '';

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

const token = () => randomBytes(32).toString('hex');
function file(content: string): string {
  const path = join(dir, randomBytes(4).toString('hex'));
  writeFileSync(path, content, { mode: 0o600 });
  return path;
}

/** The Authorization header `sluice topics pause t --json` sends with these flags and environment. */
async function sentAuthorization(flags: string[], env: NodeJS.ProcessEnv): Promise<string | undefined> {
  seen.length = 0;
  const write = process.stdout.write;
  process.stdout.write = () => true; // the answer's JSON is not what is checked here
  try {
    assert.equal(await run(['topics', 'pause', 't', '--json', '--api-url', url, ...flags], env), EXIT.OK);
  } finally {
    process.stdout.write = write;
  }
  assert.equal(seen.length, 1);
  return seen[0];
}

/** The usage error (exit 2) `run` throws for these flags and environment. */
async function usageError(flags: string[], env: NodeJS.ProcessEnv): Promise<string> {
  let message = '';
  await assert.rejects(
    run(['topics', 'pause', 't', '--api-url', url, ...flags], env),
    (e: Error & { exitCode?: number }) => {
      message = e.message;
      return e.exitCode === EXIT.USAGE;
    },
  );
  return message;
}

test('--token-file and SLUICE_API_TOKEN_FILE are read (final line break trimmed); flags beat the environment', async () => {
  const [a, b, c] = [token(), token(), token()];
  assert.equal(await sentAuthorization(['--token-file', file(`${a}\n`)], {}), `Bearer ${a}`);
  assert.equal(await sentAuthorization([], { SLUICE_API_TOKEN_FILE: file(`${b}\r\n`) }), `Bearer ${b}`);
  assert.equal(await sentAuthorization([], { SLUICE_API_TOKEN: c }), `Bearer ${c}`);
  assert.equal(
    await sentAuthorization(['--token-file', file(a)], {
      SLUICE_API_TOKEN: c,
      SLUICE_API_TOKEN_FILE: file(b),
    }),
    `Bearer ${a}`,
  );
  assert.equal(await sentAuthorization(['--token', b], { SLUICE_API_TOKEN_FILE: file(c) }), `Bearer ${b}`);
  assert.equal(await sentAuthorization([], {}), undefined);
});

test('two forms at one level, or a file that cannot be read, are usage errors naming them, never the token', async () => {
  const t = token();
  const both = await usageError(['--token', t, '--token-file', file(t)], {});
  assert.match(both, /--token and --token-file are both set; give only one of them/);
  assert.ok(!both.includes(t));
  const env = await usageError([], { SLUICE_API_TOKEN: t, SLUICE_API_TOKEN_FILE: file(t) });
  assert.match(env, /SLUICE_API_TOKEN and SLUICE_API_TOKEN_FILE are both set/);
  const missing = join(dir, 'missing');
  assert.match(
    await usageError(['--token-file', missing], {}),
    new RegExp(`--token-file names the file ${missing}, which does not exist`),
  );
  assert.match(
    await usageError([], { SLUICE_API_TOKEN_FILE: file('') }),
    /SLUICE_API_TOKEN_FILE names the file .*, which is empty/,
  );
});

test('the help says --token shows in ps and what to prefer', async () => {
  let help = '';
  const write = process.stdout.write;
  process.stdout.write = (chunk: string | Uint8Array) => {
    help += String(chunk);
    return true;
  };
  try {
    await run(['--help'], {});
  } finally {
    process.stdout.write = write;
  }
  assert.match(help, /--token T .*\n.*`ps`: prefer \$SLUICE_API_TOKEN or --token-file/);
  assert.match(help, /--token-file F\s+read the token from file F \(default \$SLUICE_API_TOKEN_FILE\)/);
});
