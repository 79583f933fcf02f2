/**
 * The `sluice` CLI installed the way an operator without this repository installs it: the
 * tarball `npm pack` makes in packages/cli, installed with `npm install -g` into a prefix
 * outside the repository and run with `npx <tarball>`, answers `--version` and reads the
 * status of a real master on the local stack. Nothing of the repository is on the paths the
 * installed CLI resolves from, so an import of the master or of shared code that the tarball
 * does not carry fails here.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { REPO, type SluiceProcess, TestCluster } from '../helpers/processes.ts';

const cluster = new TestCluster({ name: 'cli-pkg' });
const outside = mkdtempSync(join(tmpdir(), 'sluice-cli-pkg-'));
const prefix = join(outside, 'prefix');
const version = JSON.parse(readFileSync(join(REPO, 'packages', 'cli', 'package.json'), 'utf8')).version;
/** Node and npm, but no folder of the repository (its node_modules/.bin has a `sluice` too). */
const env = {
  PATH: [join(prefix, 'bin'), dirname(process.execPath), '/usr/bin', '/bin'].join(':'),
  HOME: outside,
  npm_config_cache: join(outside, 'npm-cache'),
  npm_config_update_notifier: 'false',
};
let master: SluiceProcess;
let tarball = '';

function sh(file: string, args: string[], cwd: string, extra: Record<string, string> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(file, args, { cwd, env: { ...env, ...extra }, timeout: 300_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

before(async () => {
  master = await cluster.startMaster();
  const pack = await sh('npm', ['pack', '--pack-destination', outside], join(REPO, 'packages', 'cli'), {
    // the repository's npm and tsc for the prepack build
    PATH: `${join(REPO, 'node_modules', '.bin')}:${env.PATH}`,
  });
  assert.equal(pack.code, 0, pack.stderr);
  tarball = join(outside, pack.stdout.trim().split('\n').at(-1) ?? '');
});

after(async () => {
  await cluster.stopAll();
  rmSync(outside, { recursive: true, force: true });
});

test('the tarball carries the bin and the built JavaScript, neither sources, tests nor type files', async () => {
  const list = await sh('tar', ['-tzf', tarball], outside);
  assert.equal(list.code, 0, list.stderr);
  const files = list.stdout.trim().split('\n').sort();
  assert.ok(files.includes('package/bin/sluice.js'), files.join('\n'));
  assert.ok(files.includes('package/dist/cli/src/main.js'), files.join('\n'));
  assert.ok(files.includes('package/dist/shared/src/secret-file.js'), 'the token-file reader it shares');
  assert.deepEqual(
    files.filter((f) => /\.ts$|\.map$|tsbuildinfo|\/test\//.test(f)),
    [],
  );
  const manifest = JSON.parse((await sh('tar', ['-xzOf', tarball, 'package/package.json'], outside)).stdout);
  assert.deepEqual(manifest.bin, { sluice: './bin/sluice.js' });
  assert.equal(manifest.dependencies, undefined, 'it installs without the registry');
});

test('npm install -g puts sluice on the PATH of a prefix outside the repository: --version and status against a real master', async () => {
  const install = await sh(
    'npm',
    ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', tarball],
    outside,
  );
  assert.equal(install.code, 0, install.stderr);
  assert.doesNotMatch(install.stderr, /warn/i, 'a clean install');

  const v = await sh('sluice', ['--version'], outside);
  assert.equal(v.code, 0, v.stderr);
  assert.equal(v.stdout, `${version}\n`);

  const status = await sh('sluice', ['status'], outside, {
    SLUICE_API_URL: master.url,
    SLUICE_API_TOKEN: cluster.token,
  });
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, new RegExp(`^leader: +${cluster.name}-master-1 on `, 'm'));
  assert.match(status.stdout, /^ranges: +\d+ planned, \d+ active, \d+ done, \d+ failed$/m);

  const json = await sh('sluice', ['status', '--json', '--api-url', master.url], outside);
  assert.equal(json.code, 0, json.stderr);
  assert.equal(JSON.parse(json.stdout).leader.id, `${cluster.name}-master-1`);
});

test('npx runs the tarball without installing it anywhere first', async () => {
  const v = await sh('npx', ['--yes', '--package', tarball, '--', 'sluice', '--version'], outside);
  assert.equal(v.code, 0, v.stderr);
  assert.equal(v.stdout, `${version}\n`);
  const status = await sh('npx', ['--yes', '--package', tarball, '--', 'sluice', 'status'], outside, {
    SLUICE_API_URL: master.url,
  });
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, new RegExp(`^leader: +${cluster.name}-master-1 on `, 'm'));
});
