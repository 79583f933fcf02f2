/**
 * `sluice apply`'s plan lines as a user reads them, and the API client going on after the
 * master's rate limit (a long apply sends hundreds of changes): waits the `Retry-After` it was
 * given, then sends the same request again. Against a local HTTP server, no Sluice service.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { TopicUpsertAnswer } from '@sluice/master/answer-types';
import { CliError, createApiClient } from '../src/api-client.ts';
import { planLine } from '../src/apply-command.ts';

const entry = { topic: 'orders', body: {}, line: 3, fieldLines: {} };

test('one line per topic: create, change with each field, unchanged, delete, not in file', () => {
  const put = (answer: Partial<TopicUpsertAnswer>): Parameters<typeof planLine>[0] => ({
    kind: 'put',
    entry,
    answer: { result: 'created', dryRun: true, changes: [], ...answer },
  });
  assert.equal(planLine(put({ result: 'created' }), false), 'create orders');
  assert.equal(planLine(put({ result: 'unchanged' }), false), 'unchanged orders');
  assert.equal(
    planLine(
      put({
        result: 'changed',
        changes: [
          { field: 'flushIntervalMs', from: 600000, to: 60000, applies: 'now' },
          {
            field: 'partitionBy',
            from: { kind: 'none' },
            to: { kind: 'kafka-time', granularity: 'day' },
            applies: 'new-ranges',
          },
          { field: 'mirrorGroup', from: 'old', applies: 'now' },
        ],
      }),
      false,
    ),
    'change orders: flushIntervalMs 600000 → 60000, partitionBy {"kind":"none"} → {"kind":"kafka-time","granularity":"day"} (new ranges), mirrorGroup old → (default)',
  );
  assert.equal(planLine({ kind: 'delete', topic: 'old' }, true), 'would delete old');
  assert.equal(planLine({ kind: 'delete', topic: 'old' }, false), 'delete old');
  assert.equal(
    planLine({ kind: 'not-in-file', topic: 'old' }, false),
    'not in file old (left alone; --prune deletes it)',
  );
});

test('a 429 is sent again after Retry-After; a refusal keeps its problems for the file lines', async () => {
  const seen: number[] = [];
  const server = createServer((req, res) => {
    seen.push(Date.now());
    if (seen.length === 1) {
      res
        .writeHead(429, { 'retry-after': '1', 'content-type': 'application/json' })
        .end('{"message":"slow down"}');
    } else if (req.method === 'PUT') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"result":"unchanged"}');
    } else {
      res
        .writeHead(400, { 'content-type': 'application/json' })
        .end('{"code":"SLUICE_ERR_VALIDATION","message":"x: bad","problems":[{"path":"x","message":"bad"}]}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const api = createApiClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 't');
    assert.deepEqual(await api.call('PUT', '/api/v1/topics/orders', {}), { result: 'unchanged' });
    assert.equal(seen.length, 2);
    assert.ok(seen[1]! - seen[0]! >= 900, 'it waited the second the master asked for');
    await assert.rejects(api.call('POST', '/x', {}), (err: unknown) => {
      assert.ok(err instanceof CliError);
      assert.deepEqual(err.refusal, {
        status: 400,
        code: 'SLUICE_ERR_VALIDATION',
        message: 'x: bad',
        problems: [{ path: 'x', message: 'bad' }],
      });
      return true;
    });
  } finally {
    server.close();
  }
});
