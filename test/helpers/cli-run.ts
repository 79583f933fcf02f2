/**
 * Runs the `sluice` CLI as an operator would (`npx --no-install sluice …`, the built bin)
 * against a master, with only the environment given: the CLI tests and the recovery test
 * read its output and exit code.
 */
import { execFile } from 'node:child_process';
import { REPO } from './processes.ts';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function runSluiceCli(
  master: { url: string },
  token: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      'npx',
      ['--no-install', 'sluice', ...args],
      {
        cwd: REPO,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '/tmp',
          SLUICE_API_URL: master.url,
          SLUICE_API_TOKEN: token,
          ...env,
        },
        timeout: 60_000,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr).replace(/^npm warn .*\n/gm, '') });
      },
    );
  });
}
