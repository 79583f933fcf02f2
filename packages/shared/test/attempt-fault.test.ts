/**
 * Whose fault a failed range attempt is (shared/src/attempt-fault.ts), from the errors S3 and
 * Kafka failures become: the worker's own (it stops taking jobs and probes) or the range's
 * (the range's failures and backoff grow). Pure: no server.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyAttemptFailure, ErrorCodes, kafkaError, SluiceError, s3Error } from '@sluice/shared';

function sdkError(name: string, status?: number): Error {
  const e = new Error(`${name} happened`) as Error & { $metadata?: { httpStatusCode?: number } };
  e.name = name;
  if (status !== undefined) e.$metadata = { httpStatusCode: status };
  return e;
}

function socketError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 10.0.0.9:9000`), { code });
}

const brokers = { kafkaBrokers: ['kafka-1:9092'] };

test("S3 refusing the worker's credentials or access is the worker's fault, probed on S3", () => {
  for (const err of [
    s3Error(sdkError('InvalidAccessKeyId', 403), 'PutObject', 'b', 'k'),
    s3Error(sdkError('SignatureDoesNotMatch', 403), 'PutObject', 'b', 'k'),
    s3Error(sdkError('AccessDenied', 403), 'UploadPart 2', 'b', 'k'),
    s3Error(sdkError('Unknown', 403), 'HeadBucket', 'b'),
  ]) {
    const fault = classifyAttemptFailure(err);
    assert.equal(fault.kind, 'worker', err.message);
    assert.ok(fault.kind === 'worker' && fault.service === 's3');
    assert.ok(fault.kind === 'worker' && fault.reason.includes('s3://b'), 'the reason names the bucket');
  }
});

test("a bucket that does not exist is the range's fault (the same for every worker), with its message", () => {
  const err = s3Error(sdkError('NoSuchBucket', 404), 'PutObject', 'typo-bucket', 'k');
  assert.deepEqual(classifyAttemptFailure(err), { kind: 'range' });
  assert.match(err.message, /destination\.bucket/);
});

test("S3 or Kafka unreachable from this worker is the worker's fault; passing trouble is the range's", () => {
  for (const code of ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']) {
    const s3 = classifyAttemptFailure(s3Error(socketError(code), 'PutObject', 'b', 'k'));
    assert.ok(s3.kind === 'worker' && s3.service === 's3' && s3.reason.includes(code), code);
    // Kafka's client wraps socket errors; several brokers fail together as an AggregateError.
    const wrapped = new Error('Connection failed', { cause: socketError(code) });
    const kafka = classifyAttemptFailure(
      kafkaError(new AggregateError([wrapped], 'all brokers failed'), brokers, 'fetch'),
    );
    assert.ok(kafka.kind === 'worker' && kafka.service === 'kafka' && kafka.reason.includes(code), code);
  }
  // A reset connection, a timeout, a 500 or SlowDown: any worker could meet them; the range retries.
  assert.equal(
    classifyAttemptFailure(s3Error(socketError('ECONNRESET'), 'PutObject', 'b', 'k')).kind,
    'range',
  );
  assert.equal(
    classifyAttemptFailure(s3Error(sdkError('InternalError', 500), 'PutObject', 'b', 'k')).kind,
    'range',
  );
  assert.equal(
    classifyAttemptFailure(s3Error(sdkError('SlowDown', 503), 'PutObject', 'b', 'k')).kind,
    'range',
  );
  assert.equal(
    classifyAttemptFailure(kafkaError(new Error('NOT_LEADER_OR_FOLLOWER'), brokers, 'fetch')).kind,
    'range',
  );
});

test("Kafka refusing the worker's credentials is the worker's fault", () => {
  const auth = Object.assign(new Error('SASL authentication failed'), { code: 'PLT_KFK_AUTHENTICATION' });
  const fault = classifyAttemptFailure(kafkaError(auth, brokers, 'fetch'));
  assert.ok(fault.kind === 'worker' && fault.service === 'kafka');
});

test("other errors are the range's", () => {
  assert.equal(classifyAttemptFailure(new Error('boom')).kind, 'range');
  assert.equal(
    classifyAttemptFailure(socketError('ECONNREFUSED')).kind,
    'range',
    'only coded S3/Kafka failures',
  );
  assert.equal(
    classifyAttemptFailure(new SluiceError(ErrorCodes.TOPIC_RECREATED, 'recreated')).kind,
    'range',
  );
  assert.equal(
    classifyAttemptFailure(new SluiceError(ErrorCodes.S3_WRITE_CONFLICT, 'conflict')).kind,
    'range',
  );
});
