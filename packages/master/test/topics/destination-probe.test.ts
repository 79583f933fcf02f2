/**
 * The destination probe's requests and answers, on a fake S3 client that records each command
 * and fails the ones a case asks it to: which requests prove a destination usable, and which
 * failures the caller must fix (422) rather than wait out (503). The same probe against the
 * real S3 server: test/integration/destination-probe.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { S3Client } from '@aws-sdk/client-s3';
import { ErrorCodes, type OutputSpec, SluiceError, TOPIC_DEFAULTS } from '@sluice/shared';
import { httpStatusOf } from '../../src/api/http-status.ts';
import { destinationProbe } from '../../src/topics/destination-probe.ts';

const SPEC: OutputSpec = {
  ...TOPIC_DEFAULTS,
  destination: { bucket: 'lake', prefix: 'raw' },
  partitionBy: { kind: 'none' },
};

interface Sent {
  command: string;
  input: Record<string, unknown>;
}

/** An S3 error as the SDK throws it: a name and the HTTP status. */
function s3Err(name: string, status: number): Error {
  return Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
}

/** A client that records every command and throws `fail[command]` for that command. */
function fakeS3(fail: Record<string, Error> = {}): { s3: S3Client; sent: Sent[] } {
  const sent: Sent[] = [];
  const s3 = {
    async send(cmd: { constructor: { name: string }; input: Record<string, unknown> }) {
      const command = cmd.constructor.name.replace(/Command$/, '');
      sent.push({ command, input: cmd.input });
      const err = fail[command];
      if (err) throw err;
      return {};
    },
  };
  return { s3: s3 as unknown as S3Client, sent };
}

async function refusal(p: Promise<void>): Promise<SluiceError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof SluiceError, String(err));
    return err;
  }
  assert.fail('the probe passed');
}

describe('destinationProbe', () => {
  test('a HEAD of the bucket, a conditional PUT and a DELETE of the same probe key', async () => {
    const { s3, sent } = fakeS3();
    await destinationProbe(s3, { conditionalWrites: true, writer: 'm1' })('clicks', SPEC);
    assert.deepEqual(
      sent.map((s) => s.command),
      ['HeadBucket', 'PutObject', 'DeleteObject'],
    );
    assert.equal(sent[0]!.input.Bucket, 'lake');
    const put = sent[1]!.input;
    assert.match(String(put.Key), /^raw\/clicks\/_sluice\/probe\/\d+-[0-9a-f]{12}$/);
    assert.equal(put.IfNoneMatch, '*');
    assert.equal(sent[2]!.input.Key, put.Key);
  });

  test('two probes use two keys', async () => {
    const { s3, sent } = fakeS3();
    const probe = destinationProbe(s3, { conditionalWrites: true, writer: 'm1' });
    await probe('clicks', SPEC);
    await probe('clicks', SPEC);
    const puts = sent.filter((s) => s.command === 'PutObject').map((s) => s.input.Key);
    assert.equal(new Set(puts).size, 2);
  });

  test('without conditional writes a plain PUT (no look first) and the topic’s encryption', async () => {
    const { s3, sent } = fakeS3();
    const spec: OutputSpec = { ...SPEC, serverSideEncryption: 'aws:kms', kmsKeyId: 'k1' };
    await destinationProbe(s3, { conditionalWrites: false, writer: 'm1' })('clicks', spec);
    assert.deepEqual(
      sent.map((s) => s.command),
      ['HeadBucket', 'PutObject', 'DeleteObject'],
    );
    assert.equal(sent[1]!.input.IfNoneMatch, undefined);
    assert.equal(sent[1]!.input.ServerSideEncryption, 'aws:kms');
    assert.equal(sent[1]!.input.SSEKMSKeyId, 'k1');
  });

  test('a missing bucket (HEAD answers a bare 404) is 422 naming the bucket and the fix', async () => {
    const { s3, sent } = fakeS3({ HeadBucket: s3Err('NotFound', 404) });
    const err = await refusal(
      destinationProbe(s3, { conditionalWrites: true, writer: 'm1' })('clicks', SPEC),
    );
    assert.equal(err.code, ErrorCodes.DESTINATION_UNUSABLE);
    assert.equal(httpStatusOf(err.code), 422);
    assert.match(err.message, /destination\.bucket "lake"/);
    assert.match(
      err.message,
      /bucket "lake" does not exist; create it .* or change the topic's destination\.bucket/,
    );
    assert.deepEqual(
      sent.map((s) => s.command),
      ['HeadBucket'],
    );
  });

  test('each denied step is 422 naming the permission it needs', async () => {
    const cases: Array<[string, RegExp]> = [
      ['HeadBucket', /s3:ListBucket/],
      ['PutObject', /s3:PutObject/],
      ['DeleteObject', /s3:DeleteObject/],
    ];
    for (const [command, permission] of cases) {
      const { s3 } = fakeS3({ [command]: s3Err('AccessDenied', 403) });
      const err = await refusal(
        destinationProbe(s3, { conditionalWrites: true, writer: 'm1' })('clicks', SPEC),
      );
      assert.equal(err.code, ErrorCodes.DESTINATION_UNUSABLE, command);
      assert.match(err.message, /access denied; grant the credentials/, command);
      assert.match(err.message, permission, command);
    }
  });

  test('S3 not answering is no verdict on the destination: 503, try again', async () => {
    const { s3 } = fakeS3({
      HeadBucket: Object.assign(new Error('connect ECONNREFUSED'), { name: 'Error' }),
    });
    const err = await refusal(
      destinationProbe(s3, { conditionalWrites: true, writer: 'm1' })('clicks', SPEC),
    );
    assert.equal(err.code, ErrorCodes.S3);
    assert.equal(httpStatusOf(err.code), 503);
  });
});
