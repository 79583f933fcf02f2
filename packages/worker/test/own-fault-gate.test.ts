/**
 * The worker's stop-and-probe state machine (own-fault-gate.ts) and the job handler's use of
 * it: a failure of the worker's own pauses the queue worker, publishes `ready: false` with the
 * reason, probes with a doubling delay and resumes once a probe passes; the failed range is
 * marked as the worker's fault (no backoff) and no job taken meanwhile is acted on. No server.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ErrorCodes,
  RANGE_JOB_VERSION,
  type RangeJobData,
  SluiceError,
  s3Error,
  TOPIC_DEFAULTS,
} from '@sluice/shared';
import { testLogger } from '@sluice/test-kit';
import { type Job, UnrecoverableError } from 'bullmq';
import { OwnFaultGate, type OwnFaultGateOptions } from '../src/own-fault-gate.ts';
import { createRangeJobHandler, type RangeJobOutcome } from '../src/range-job-handler.ts';
import type { RangeProcessor } from '../src/range-processor.ts';

/** A gate whose pauses, resumes and publications are logged; waits are recorded, not slept, unless `over` says. */
function harness(over: Partial<OwnFaultGateOptions> = {}) {
  const events: string[] = [];
  const delays: number[] = [];
  const gate = new OwnFaultGate({
    pause: async () => {
      events.push('pause');
    },
    resume: async () => {
      events.push('resume');
    },
    publish: async (ready, reason) => {
      events.push(ready ? 'publish ready' : `publish not ready: ${reason}`);
    },
    maxDelayMs: 4_000,
    log: testLogger(),
    sleep: async (ms) => {
      delays.push(ms);
    },
    ...over,
  });
  return { gate, events, delays };
}

/** Resolves once the gate opened again (or the time is up). */
async function opened(gate: OwnFaultGate): Promise<void> {
  for (let i = 0; i < 200 && gate.notReadyReason !== null; i++) await new Promise((r) => setTimeout(r, 5));
}

test('a fault of its own pauses the worker, publishes the reason, probes with backoff and resumes when a probe passes', async () => {
  const { gate, events, delays } = harness();
  assert.equal(gate.notReadyReason, null);
  let probes = 0;
  gate.report({
    reason: 'S3 refused the credentials',
    probe: async () => {
      probes++;
      if (probes <= 4) throw new SluiceError(ErrorCodes.UNAUTHORIZED, 'still refused');
    },
  });
  assert.equal(gate.notReadyReason, 'S3 refused the credentials', 'closed at once');
  // A second fault while closed changes nothing: the first reason and its probe stand.
  gate.report({ reason: 'other', probe: async () => assert.fail('second probe must not run') });
  await opened(gate);
  assert.equal(gate.notReadyReason, null);
  assert.equal(probes, 5);
  assert.deepEqual(delays, [1_000, 2_000, 4_000, 4_000, 4_000], 'from 1 s, doubling up to the maximum');
  assert.deepEqual(events, [
    'pause',
    'publish not ready: S3 refused the credentials',
    'publish not ready: S3 refused the credentials; last probe: SLUICE_ERR_UNAUTHORIZED: still refused',
    'publish ready',
    'resume',
  ]);

  // Open again: the next fault closes it again.
  gate.report({ reason: 'Kafka is unreachable', probe: async () => {} });
  assert.equal(gate.notReadyReason, 'Kafka is unreachable');
  await opened(gate);
  assert.deepEqual(events.slice(5), [
    'pause',
    'publish not ready: Kafka is unreachable',
    'publish ready',
    'resume',
  ]);
});

test('stop ends probing at once and leaves the worker paused', async () => {
  // Real timers, an hour long: stop must not wait for them.
  const { gate, events } = harness({ minDelayMs: 3_600_000, maxDelayMs: 3_600_000, sleep: undefined });
  gate.report({ reason: 'denied', probe: async () => assert.fail('no probe after stop') });
  await gate.stop();
  assert.deepEqual(events, ['pause', 'publish not ready: denied']);
  assert.equal(gate.notReadyReason, 'denied');
});

const output = {
  destination: { bucket: 'b', prefix: 'p' },
  format: TOPIC_DEFAULTS.format,
  compression: TOPIC_DEFAULTS.compression,
  partitionBy: TOPIC_DEFAULTS.partitionBy,
  serverSideEncryption: 'none' as const,
  kmsKeyId: '',
  storageClass: 'STANDARD' as const,
};

function job(start: number): Job<unknown, RangeJobOutcome> {
  const data: RangeJobData = {
    v: RANGE_JOB_VERSION,
    topic: 'clicks',
    topicId: 'id-1',
    partition: 0,
    start: String(start),
    end: String(start + 100),
    attempt: 1,
    output,
    plannedAt: new Date().toISOString(),
  };
  return { id: `j${start}`, data, opts: { attempts: 3 }, attemptsMade: 0 } as unknown as Job<
    unknown,
    RangeJobOutcome
  >;
}

test("the handler marks a range failed by the worker's fault, closes the gate and acts on no job until it opens", async () => {
  const { gate } = harness();
  const processed: string[] = [];
  const failures: Array<{ start: string; fault: string; error: string }> = [];
  let passProbe = false;
  let fail: unknown = s3Error(
    Object.assign(new Error('The request signature we calculated does not match'), {
      name: 'SignatureDoesNotMatch',
      $metadata: { httpStatusCode: 403 },
    }),
    'PutObject',
    'b',
    'k',
  );
  const processor = {
    process: async (d: RangeJobData) => {
      processed.push(d.start);
      if (fail) throw fail;
      return { outcome: 'written', result: { records: 1, objects: [] } };
    },
    recordFailure: async (d: RangeJobData, err: unknown, fault = 'range') => {
      failures.push({ start: d.start, fault, error: err instanceof Error ? err.message : String(err) });
    },
  } as unknown as RangeProcessor;
  const probed: string[] = [];
  const handle = createRangeJobHandler({
    processor,
    log: testLogger(),
    ownFaults: {
      gate,
      probe: (service, d) => async () => {
        probed.push(`${service} ${d.output.destination.bucket}`);
        if (!passProbe) throw new Error('not yet');
      },
    },
  });

  await assert.rejects(handle(job(0), undefined), UnrecoverableError, 'no BullMQ retry of this job');
  assert.deepEqual(
    failures.map((f) => [f.start, f.fault]),
    [['0', 'worker']],
  );
  assert.match(
    gate.notReadyReason ?? '',
    /SLUICE_ERR_UNAUTHORIZED: PutObject s3:\/\/b\/k: S3 refused the credentials/,
  );

  // A job fetched as the gate closed is handed back without being acted on.
  fail = null;
  await assert.rejects(handle(job(100), undefined), UnrecoverableError);
  assert.deepEqual(processed, ['0'], 'the second job was not processed');
  assert.equal(failures[1]?.fault, 'worker');
  assert.match(failures[1]?.error ?? '', /the worker is not ready: SLUICE_ERR_UNAUTHORIZED/);

  passProbe = true;
  await opened(gate);
  assert.ok(
    probed.length >= 1 && probed.every((p) => p === 's3 b'),
    'the probe checks S3 at the failed bucket',
  );
  assert.deepEqual(await handle(job(200), undefined), { outcome: 'written', records: 1, objects: 0 });

  // The range's own failures keep their way: BullMQ retries them, the range is not handed back.
  fail = s3Error(Object.assign(new Error('no bucket'), { name: 'NoSuchBucket' }), 'PutObject', 'gone', 'k');
  await assert.rejects(handle(job(300), undefined), UnrecoverableError);
  assert.deepEqual(failures.at(-1), { start: '300', fault: 'range', error: failures.at(-1)?.error });
  assert.equal(gate.notReadyReason, null, "a missing bucket is not the worker's fault");
});
