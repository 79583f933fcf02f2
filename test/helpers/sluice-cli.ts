/**
 * Runs the `sluice` CLI's built bin against a test cluster's master, as an operator would:
 * a child process with the master's URL and token, its exit code and both outputs kept.
 */
import { execFile } from 'node:child_process';
import { REPO, type SluiceProcess } from './processes.ts';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function runSluice(
  master: Pick<SluiceProcess, 'url'>,
  token: string,
  args: string[],
  options: { cwd?: string; timeoutMs?: number } = {},
): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [`${REPO}/packages/cli/bin/sluice.js`, ...args, '--api-url', master.url, '--token', token],
      { cwd: options.cwd ?? REPO, timeout: options.timeoutMs ?? 120_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}
