/**
 * Reading a secret from a file (a mounted Kubernetes Secret, a Docker secret, a file only its
 * owner may read), for the `*_FILE` form of the programs' secret settings and the CLI's
 * `--token-file`. A secret in a file stays out of `ps`, `/proc/<pid>/environ` of other users
 * and the pod spec; one reader keeps the programs and the CLI saying the same things about a
 * bad file.
 */
import { readFileSync } from 'node:fs';

/** Why a file cannot be read, in words an operator acts on, by Node's error code. */
const REASONS: Record<string, string> = {
  ENOENT: 'does not exist',
  EACCES: 'may not be read by this user (permission denied)',
  EPERM: 'may not be read by this user (operation not permitted)',
  EISDIR: 'is a folder, not a file',
  ENOTDIR: 'is not a file (a part of its path is not a folder)',
};

/**
 * The secret in the file at `path`, without the line break that ends it (`echo`, editors and
 * `kubectl create secret --from-file` of such a file leave one), or the problem with the file.
 * The problem names the file, never its content: that is the secret.
 */
export function readSecretFile(path: string): { value: string } | { problem: string } {
  let content: string;
  try {
    content = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    return {
      problem: `names the file ${path}, which ${REASONS[code] ?? `cannot be read (${code || 'error'})`}`,
    };
  }
  const value = content.replace(/(?:\r?\n)+$/, '');
  if (value.trim() === '') return { problem: `names the file ${path}, which is empty` };
  return { value };
}
