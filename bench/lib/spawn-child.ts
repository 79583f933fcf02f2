/** Runs `bench/child.ts <kind>` with a JSON input file and returns its JSON answer. */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './stack.ts';

let n = 0;

export async function runChild<T>(
  scratchDir: string,
  kind: string,
  input: unknown,
  nodeFlags: string[] = [],
): Promise<T> {
  const file = join(scratchDir, `child-${process.pid}-${++n}.json`);
  writeFileSync(
    file,
    JSON.stringify(input, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)),
  );
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--no-warnings', ...nodeFlags, join(REPO, 'bench', 'child.ts'), kind, file],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    err += d;
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  const line = out.trim().split('\n').at(-1) ?? '';
  if (code !== 0 || !/^[[{]/.test(line)) {
    throw new Error(`bench child ${kind} failed (${code}): ${err.slice(-3000)}`);
  }
  return JSON.parse(line) as T;
}
