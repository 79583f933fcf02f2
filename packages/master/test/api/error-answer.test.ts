import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCodes, SluiceError, ValidationError } from '@sluice/shared';
import { errorAnswer } from '../../src/api/error-answer.ts';

test('a validation error answers 400 with every problem', () => {
  const a = errorAnswer(
    new ValidationError([
      { path: 'destination.bucket', message: 'must be 3 to 63 characters long, got 2' },
      { path: 'maxRangeBytes', message: 'must be at least 1024, got 3' },
    ]),
  );
  assert.equal(a.statusCode, 400);
  assert.equal(a.code, ErrorCodes.VALIDATION);
  assert.equal(a.error, 'Bad Request');
  assert.equal(a.problems?.length, 2);
  assert.match(a.message, /destination\.bucket: must be 3 to 63.*; maxRangeBytes: must be at least 1024/);
});

test('a Sluice error answers with the status of its code and its message', () => {
  const a = errorAnswer(new SluiceError(ErrorCodes.TOPIC_EXISTS, 'topic "x" is already registered'));
  assert.deepEqual(a, {
    statusCode: 409,
    code: ErrorCodes.TOPIC_EXISTS,
    error: 'Conflict',
    message: 'topic "x" is already registered',
  });
});

test('a raw ZooKeeper error is a 503, an unexpected error a 500 that hides its text', () => {
  const zk = Object.assign(new Error('CONNECTION_LOSS[-4]'), { zkCode: -4 });
  assert.equal(errorAnswer(zk).statusCode, 503);
  assert.equal(errorAnswer(zk).code, ErrorCodes.ZK);
  const bug = errorAnswer(new TypeError('cannot read properties of undefined (reading "secret")'));
  assert.equal(bug.statusCode, 500);
  assert.equal(bug.code, ErrorCodes.INTERNAL);
  assert.doesNotMatch(bug.message, /secret/);
});

test("Fastify's own refusals keep their status; a bad body is a validation error", () => {
  const tooLarge = errorAnswer(
    Object.assign(new Error('Request body is too large'), {
      statusCode: 413,
      code: 'FST_ERR_CTP_BODY_TOO_LARGE',
    }),
  );
  assert.equal(tooLarge.statusCode, 413);
  assert.equal(tooLarge.code, 'FST_ERR_CTP_BODY_TOO_LARGE');
  const badJson = errorAnswer(Object.assign(new Error('Unexpected token'), { statusCode: 400 }));
  assert.equal(badJson.code, ErrorCodes.VALIDATION);
  assert.equal(badJson.message, 'body: Unexpected token');
});

test("S3 refusing the master's own credentials is a 502, not the caller's 401 or 403", () => {
  const creds = errorAnswer(
    new SluiceError(ErrorCodes.UNAUTHORIZED, 'GetObject s3://b/k: S3 refused the credentials', {
      details: { bucket: 'b', key: 'k' },
    }),
  );
  assert.equal(creds.statusCode, 502);
  assert.equal(creds.code, ErrorCodes.UNAUTHORIZED);
  const denied = errorAnswer(
    new SluiceError(ErrorCodes.FORBIDDEN, 'ListObjectsV2 s3://b/: access denied', {
      details: { bucket: 'b' },
    }),
  );
  assert.equal(denied.statusCode, 502);
  // The API's own refusal of a token stays a 401.
  assert.equal(errorAnswer(new SluiceError(ErrorCodes.UNAUTHORIZED, 'missing token')).statusCode, 401);
});
