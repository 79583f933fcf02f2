/**
 * Runs Python against the readers users check Sluice's columnar output with (pyarrow, DuckDB,
 * fastavro), installed by `npm run stack:up` (scripts/python-readers.sh). A test that reads
 * Parquet or Avro objects this way fails, naming the fix, when the readers are missing: it
 * never falls back to reading them with Sluice's own code.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadStackEnv, stackEnvFile } from '@sluice/test-kit';

/** The stack's Python with the readers, or an error that says how to get it. */
export function readersPython(): string {
  const python = loadStackEnv().SLUICE_STACK_PYTHON;
  if (!python || !existsSync(python)) {
    throw new Error(
      `the Python readers (pyarrow, DuckDB, fastavro) are not installed (${stackEnvFile()} names ${python ?? 'no SLUICE_STACK_PYTHON'}): run npm run stack:up, which installs them with scripts/python-readers.sh`,
    );
  }
  return python;
}

/**
 * Runs `script` (Python source) with `args` and returns what it printed on stdout, parsed as
 * JSON: scripts print one JSON document. A non-zero exit throws with the script's stderr.
 */
export function runPython<T>(script: string, args: readonly string[] = []): T {
  const out = spawnSync(readersPython(), ['-c', script, ...args], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    timeout: 120_000,
  });
  if (out.error) throw out.error;
  if (out.status !== 0) {
    throw new Error(`python exited with ${out.status}: ${out.stderr.trim().slice(-4000)}`);
  }
  return JSON.parse(out.stdout) as T;
}
