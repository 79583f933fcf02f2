/**
 * Sizes and durations as operators write them (`256MiB`, `1GB`, `10m`, `5s`, `1h30m`) for the
 * CLI's byte and millisecond options. The API takes whole bytes and milliseconds; one parser
 * turns every such option into them, so each option accepts the same forms and a mistake is
 * reported the same way: naming the option, what was given and the accepted forms.
 */
import { CliError, EXIT } from './api-client.ts';

export type Quantity = 'size' | 'duration';

/** Bytes per unit: SI units are powers of 1000, IEC units powers of 1024 (as `ls`, `df` and S3 tools use them). */
const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/** Milliseconds per unit. */
const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const ACCEPTED: Record<Quantity, string> = {
  size: 'a whole number of bytes (268435456) or a number with a unit: B, KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024), e.g. 256MiB or 1GB',
  duration:
    'a whole number of milliseconds (600000) or numbers with units: ms, s, m (minutes), h, d, e.g. 10m, 5s or 1h30m',
};

/** One `<number><unit>` part; a duration may chain several (`1h30m`), a size has one. */
const PART = /(\d+(?:\.\d+)?)\s*([a-z]*)/gy;

/**
 * `value` of the option `--name` in whole bytes (`size`) or milliseconds (`duration`). A bare
 * number is already bytes or milliseconds. Throws a usage error (exit 2) naming the option and
 * the accepted forms when the text is none of them or does not come to a whole number.
 */
export function parseQuantity(name: string, value: string, kind: Quantity): number {
  const units = kind === 'size' ? SIZE_UNITS : DURATION_UNITS;
  const text = value.trim().toLowerCase();
  let total = 0;
  let parts = 0;
  let end = 0;
  PART.lastIndex = 0;
  for (let m = PART.exec(text); m !== null && m[0] !== ''; m = PART.exec(text)) {
    const [, number, unit = ''] = m;
    const factor =
      unit === '' ? (parts === 0 && m.index + m[0].length === text.length ? 1 : undefined) : units[unit];
    if (factor === undefined) break;
    total += Number(number) * factor;
    parts++;
    end = PART.lastIndex;
  }
  const whole = Math.round(total);
  const complete = parts > 0 && end === text.length && (kind === 'duration' || parts === 1);
  if (!complete || Math.abs(total - whole) > 1e-6 || !Number.isSafeInteger(whole)) {
    throw new CliError(`--${name} "${value}" is not a ${kind}; give ${ACCEPTED[kind]}`, EXIT.USAGE);
  }
  return whole;
}
