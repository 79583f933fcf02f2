/**
 * Upgrade in place, the pure half: a record or a tree written by a newer release is refused
 * with SLUICE_ERR_NEWER_LAYOUT and a message that names the fix; older and current ones are read.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeJson, encodeJson, isSluiceError, parseRangeJob, ZK_LAYOUT_VERSION } from '@sluice/shared';
import { checkLayout, layoutOf, RECORD_VERSION, UNVERSIONED_LAYOUT } from '../src/layout-version.ts';

const newer = (err: unknown) =>
  isSluiceError(err, 'SLUICE_ERR_NEWER_LAYOUT') && !err.retryable && /Upgrading/.test(err.message);

test('decodeJson reads records of this version and older, and refuses newer ones', () => {
  assert.deepEqual(decodeJson(encodeJson({ v: RECORD_VERSION, a: 1 }), 'x'), { v: 1, a: 1 });
  assert.deepEqual(decodeJson(encodeJson({ a: 1 }), 'x'), { a: 1 }, 'no v: the oldest format');
  assert.throws(() => decodeJson(encodeJson({ v: RECORD_VERSION + 1 }), '/sluice/topics/t'), newer);
});

test('the layout of a tree: no node is the unversioned layout, a newer one is refused', () => {
  assert.equal(layoutOf(null), UNVERSIONED_LAYOUT);
  assert.equal(layoutOf(encodeJson({ v: 1, layout: ZK_LAYOUT_VERSION })), ZK_LAYOUT_VERSION);
  assert.throws(() => layoutOf(Buffer.from('{"layout":"two"}')), /does not hold a layout version/);
  checkLayout(ZK_LAYOUT_VERSION);
  assert.throws(() => checkLayout(ZK_LAYOUT_VERSION + 1), newer);
});

test('a job payload of another version is refused with a code and the upgrade order', () => {
  assert.throws(
    () => parseRangeJob({ v: 2 }),
    (err) =>
      isSluiceError(err, 'SLUICE_ERR_BAD_JOB') &&
      !err.retryable &&
      /workers before masters/.test(err.message),
  );
});
