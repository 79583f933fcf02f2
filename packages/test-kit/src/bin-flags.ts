/**
 * The Node flags a program's bin asks for on its first line (`#!/usr/bin/env -S node <flags>`),
 * which `node <bin>` does not read: the image's ENTRYPOINT and the benchmark's spawns pass
 * them themselves, and deploy/check compares the ENTRYPOINT with them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './stack-env.ts';

/** The flags of a bin's text: its shebang's words after `node`. */
export function binNodeFlags(text: string): string[] {
  const first = text.split('\n', 1)[0] ?? '';
  const m = /^#!\S*env(?:\s+-S)?\s+node((?:\s+--\S+)*)\s*$/.exec(first);
  return m ? m[1]!.trim().split(/\s+/).filter(Boolean) : [];
}

/** The flags `packages/<program>/bin/sluice-<program>.js` asks for. */
export function programNodeFlags(program: 'master' | 'worker'): string[] {
  return binNodeFlags(readFileSync(join(REPO, 'packages', program, 'bin', `sluice-${program}.js`), 'utf8'));
}
