/**
 * The meaning of S3 failures (shared/src/s3/s3-errors.ts) and the bounded pool, without a
 * server: the master and the worker both rely on these answers.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type ErrorCode,
  ErrorCodes,
  isConditionFailure,
  isNoSuchBucket,
  isNotFound,
  isSluiceError,
  mapLimit,
  s3Error,
  s3Failure,
} from '@sluice/shared';

/** An error shaped like the SDK's: a name and the HTTP status in `$metadata`. */
function sdkError(name: string, status?: number, message = `${name} happened`): Error {
  const e = new Error(message) as Error & { $metadata?: { httpStatusCode?: number } };
  e.name = name;
  if (status !== undefined) e.$metadata = { httpStatusCode: status };
  return e;
}

test('not found: a missing key, never a missing bucket', () => {
  assert.ok(isNotFound(sdkError('NoSuchKey', 404)));
  assert.ok(isNotFound(sdkError('NotFound', 404)));
  assert.ok(isNotFound(sdkError('Unknown', 404)));
  assert.ok(isNotFound({ Code: 'NoSuchKey' }));
  assert.ok(!isNotFound(sdkError('NoSuchBucket', 404)));
  assert.ok(!isNotFound(sdkError('InternalError', 500)));
  assert.ok(!isNotFound(null));
});

test('a refused conditional write: 412, PreconditionFailed, or AWS 409 ConditionalRequestConflict', () => {
  assert.ok(isConditionFailure(sdkError('Unknown', 412)));
  assert.ok(isConditionFailure(sdkError('PreconditionFailed')));
  assert.ok(isConditionFailure(sdkError('ConditionalRequestConflict', 409)));
  assert.ok(!isConditionFailure(sdkError('BucketAlreadyExists', 409)));
  assert.ok(!isConditionFailure(sdkError('SlowDown', 503)));
});

test('each S3 failure becomes a coded error that says what to fix', () => {
  const cases: Array<[Error, ErrorCode, boolean, RegExp]> = [
    [sdkError('NoSuchBucket', 404), ErrorCodes.S3, false, /bucket "lake" does not exist; create it/],
    [sdkError('PreconditionFailed', 412), ErrorCodes.S3_WRITE_CONFLICT, true, /another attempt first/],
    [sdkError('InvalidAccessKeyId', 403), ErrorCodes.UNAUTHORIZED, false, /AWS_ACCESS_KEY_ID/],
    [
      sdkError('AccessDenied', 403),
      ErrorCodes.FORBIDDEN,
      false,
      /grant the credentials s3:PutObject on bucket "lake"/,
    ],
    [sdkError('NotImplemented', 501), ErrorCodes.S3, false, /SLUICE_S3_CONDITIONAL_WRITES=false/],
    [
      sdkError('SlowDown', 503, 'Please reduce your request rate.'),
      ErrorCodes.S3,
      true,
      /failed: SlowDown: Please/,
    ],
  ];
  for (const [err, code, retryable, message] of cases) {
    const e = s3Error(err, 'PutObject', 'lake', 'raw/t/x.json');
    assert.ok(isSluiceError(e, code), `${err.name}: ${e.code}`);
    assert.equal(e.retryable, retryable, err.name);
    assert.match(e.message, message);
    assert.match(e.message, /^PutObject s3:\/\/lake\/raw\/t\/x\.json/);
    assert.equal(e.cause, err);
  }
  const listing = s3Error(sdkError('AccessDenied', 403), 'ListObjectsV2', 'lake');
  assert.match(listing.message, /^ListObjectsV2 s3:\/\/lake: .*s3:ListBucket/);
  const part = s3Error(sdkError('AccessDenied', 403), 'UploadPart 3', 'lake', 'k');
  assert.match(part.message, /s3:PutObject/);
  const already = s3Error(sdkError('SlowDown', 503), 'GetObject', 'lake', 'k');
  assert.equal(s3Error(already, 'PutObject', 'other'), already, 'a SluiceError stays as it is');
});

test('a request the caller cancelled fails with the caller’s reason', () => {
  const ac = new AbortController();
  const reason = new Error('range given up');
  ac.abort(reason);
  const abort = sdkError('AbortError');
  assert.equal(s3Failure(abort, 'PutObject', 'lake', 'k', ac.signal), reason);
  assert.ok(
    isSluiceError(s3Failure(abort, 'PutObject', 'lake', 'k'), ErrorCodes.S3),
    'no signal: an S3 failure',
  );
});

test('mapLimit: results in input order, never more than the limit at once', async () => {
  let running = 0;
  let most = 0;
  const out = await mapLimit([5, 1, 4, 2, 3, 0], 2, async (n) => {
    running++;
    most = Math.max(most, running);
    await new Promise((r) => setTimeout(r, n));
    running--;
    return n * 10;
  });
  assert.deepEqual(out, [50, 10, 40, 20, 30, 0]);
  assert.equal(most, 2);
  assert.deepEqual(await mapLimit([], 4, async () => 1), []);
  await assert.rejects(
    mapLimit([1, 2, 3], 0, async (n) => {
      if (n === 2) throw new Error('two');
      return n;
    }),
    /two/,
  );
});

test('a missing bucket: the answer itself, or a SluiceError made from it; never a missing key', () => {
  const answer = sdkError('NoSuchBucket', 404);
  assert.equal(isNoSuchBucket(answer), true);
  assert.equal(isNoSuchBucket(s3Failure(answer, 'ListObjectsV2', 'lake', 'raw/')), true);
  assert.equal(isNoSuchBucket(s3Failure(sdkError('NoSuchKey', 404), 'GetObject', 'lake', 'k')), false);
  assert.equal(isNoSuchBucket(new Error('NoSuchBucket')), false);
});
