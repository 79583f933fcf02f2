/**
 * Sizes and durations in the CLI's options (`256MiB`, `10m`): what each form comes to, and
 * that a mistake is a usage error naming the option, what was given and the accepted forms.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EXIT } from '../src/api-client.ts';
import { parseQuantity } from '../src/human-units.ts';

test('sizes: bare bytes, SI units in powers of 1000, IEC units in powers of 1024, any case, a space allowed', () => {
  assert.equal(parseQuantity('max-range-bytes', '268435456', 'size'), 268_435_456);
  assert.equal(parseQuantity('max-range-bytes', '256MiB', 'size'), 256 * 1024 * 1024);
  assert.equal(parseQuantity('max-range-bytes', '1GB', 'size'), 1_000_000_000);
  assert.equal(parseQuantity('max-range-bytes', '1.5 KiB', 'size'), 1536);
  assert.equal(parseQuantity('max-range-bytes', '64mib', 'size'), 64 * 1024 * 1024);
  assert.equal(parseQuantity('max-range-bytes', '2TB', 'size'), 2e12);
  assert.equal(parseQuantity('max-range-bytes', '10B', 'size'), 10);
});

test('durations: bare milliseconds, one unit or several in a row', () => {
  assert.equal(parseQuantity('flush-interval-ms', '600000', 'duration'), 600_000);
  assert.equal(parseQuantity('flush-interval-ms', '10m', 'duration'), 600_000);
  assert.equal(parseQuantity('flush-interval-ms', '5s', 'duration'), 5_000);
  assert.equal(parseQuantity('flush-interval-ms', '250ms', 'duration'), 250);
  assert.equal(parseQuantity('flush-interval-ms', '1h30m', 'duration'), 5_400_000);
  assert.equal(parseQuantity('flush-interval-ms', '1.5s', 'duration'), 1_500);
  assert.equal(parseQuantity('finalize-lateness-ms', '2d', 'duration'), 172_800_000);
  assert.equal(parseQuantity('finalize-lateness-ms', '3min', 'duration'), 180_000);
});

test('anything else is a usage error (exit 2) naming the option, the text and the accepted forms', () => {
  const refused = (name: string, value: string, kind: 'size' | 'duration', forms: RegExp) =>
    assert.throws(
      () => parseQuantity(name, value, kind),
      (e: Error & { exitCode?: number }) => {
        assert.equal(e.exitCode, EXIT.USAGE);
        assert.ok(e.message.startsWith(`--${name} "${value}" is not a ${kind}; give `), e.message);
        assert.match(e.message, forms);
        return true;
      },
    );
  const sizeForms = /KiB, MiB, GiB, TiB .* e\.g\. 256MiB or 1GB/;
  const timeForms = /ms, s, m \(minutes\), h, d, e\.g\. 10m, 5s or 1h30m/;
  for (const v of ['lots', '', '12parsecs', '-5MiB', '1.5', '0.3B', '1MiB2', '10m', '1GB 2GB']) {
    refused('max-range-bytes', v, 'size', sizeForms);
  }
  for (const v of ['soon', '10x', '1h30', '5 s 3', '0.0001s', '1MiB', 'm', '99999999999999999d']) {
    refused('flush-interval-ms', v, 'duration', timeForms);
  }
});
