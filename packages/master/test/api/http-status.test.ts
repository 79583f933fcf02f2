import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCodes } from '@sluice/shared';
import { httpStatusOf, httpStatusTable } from '../../src/api/http-status.ts';

test('every error code of the catalog has an HTTP status', () => {
  const mapped = new Set(httpStatusTable().map(([code]) => code));
  for (const code of Object.values(ErrorCodes)) assert.ok(mapped.has(code), `${code} has no HTTP status`);
});

test('client mistakes are 4xx, missing dependencies 503', () => {
  assert.equal(httpStatusOf(ErrorCodes.VALIDATION), 400);
  assert.equal(httpStatusOf(ErrorCodes.UNAUTHORIZED), 401);
  assert.equal(httpStatusOf(ErrorCodes.FORBIDDEN), 403);
  assert.equal(httpStatusOf(ErrorCodes.TOPIC_NOT_IN_KAFKA), 404);
  assert.equal(httpStatusOf(ErrorCodes.TOPIC_NOT_REGISTERED), 404);
  assert.equal(httpStatusOf(ErrorCodes.RANGE_NOT_FOUND), 404);
  assert.equal(httpStatusOf(ErrorCodes.TOPIC_EXISTS), 409);
  assert.equal(httpStatusOf(ErrorCodes.RANGE_STATE), 409);
  assert.equal(httpStatusOf(ErrorCodes.ZK), 503);
  assert.equal(httpStatusOf(ErrorCodes.KAFKA), 503);
  assert.equal(httpStatusOf(ErrorCodes.INTERNAL), 500);
});
