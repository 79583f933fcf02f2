/**
 * Smoke test of the local Redis through BullMQ over ioredis (the queue of range jobs): a job
 * is added, processed and completed, and adding a job whose id exists is a no-op, which is
 * what makes enqueueing a range idempotent.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { loadStackEnv, uniqueName } from '@sluice/test-kit';
import { type Job, Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';

interface RangeData {
  topic: string;
  partition: number;
  start: string;
  end: string;
}

describe('redis (local stack)', () => {
  const prefix = uniqueName('sluice-smoke');
  const queueName = 'ranges';
  let connection: Redis;
  let queue: Queue<RangeData, string>;
  let events: QueueEvents;
  let worker: Worker<RangeData, string> | undefined;
  const processed: string[] = [];

  before(async () => {
    // In the hook, not the suite body: a missing stack fails every test instead of none.
    // BullMQ needs maxRetriesPerRequest: null on connections that block (the worker's).
    connection = new Redis(loadStackEnv().SLUICE_REDIS_URL, {
      maxRetriesPerRequest: null,
      lazyConnect: true,
    });
    await connection.connect();
    assert.equal(await connection.ping(), 'PONG');
    queue = new Queue<RangeData, string>(queueName, { connection, prefix });
    events = new QueueEvents(queueName, { connection: connection.duplicate(), prefix });
    await events.waitUntilReady();
  });

  after(async () => {
    await worker?.close();
    await events?.close();
    await queue?.obliterate({ force: true });
    await queue?.close();
    connection?.disconnect();
  });

  test('Redis keeps data in an append-only file and never evicts', async () => {
    const [, appendonly] = (await connection.config('GET', 'appendonly')) as [string, string];
    const [, policy] = (await connection.config('GET', 'maxmemory-policy')) as [string, string];
    assert.equal(appendonly, 'yes');
    assert.equal(policy, 'noeviction');
  });

  test('a job is added, processed once and completed; a duplicate jobId is a no-op', async () => {
    const data: RangeData = { topic: 'orders', partition: 3, start: '100', end: '200' };
    const jobId = 'orders.3.100-200';

    const first = await queue.add('range', data, { jobId });
    const again = await queue.add('range', { ...data, end: '999' }, { jobId });
    assert.equal(first.id, jobId);
    assert.equal(again.id, jobId);
    assert.equal(await queue.count(), 1, 'the duplicate add created a second job');

    const completed = once(events, 'completed') as Promise<[{ jobId: string; returnvalue: string }]>;
    worker = new Worker<RangeData, string>(
      queueName,
      async (job: Job<RangeData, string>) => {
        processed.push(job.id ?? '?');
        return `${job.data.topic}/${job.data.partition}/${job.data.start}-${job.data.end}`;
      },
      { connection, prefix, concurrency: 1 },
    );
    const [done] = await completed;
    assert.equal(done.jobId, jobId);

    const job = await queue.getJob(jobId);
    assert.ok(job, 'the completed job is gone');
    assert.equal(await job.getState(), 'completed');
    // The first add won: the duplicate's data ('999') was never stored.
    assert.equal(job.returnvalue, 'orders/3/100-200');

    // Adding the id again once it completed is still a no-op while the job is kept.
    const late = await queue.add('range', data, { jobId });
    assert.equal(late.id, jobId);
    assert.equal(await late.getState(), 'completed');
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.deepEqual(processed, [jobId]);
  });
});
