/**
 * Data integrity a user can check (issue #9), on the real stack with real master and worker
 * processes: the audit (clean after a normal run; a deleted object, an object added by hand
 * and a gap made by retention found), `_SUCCESS` in each complete hour folder and in no
 * incomplete one (with late data counted), a replay of a window that lands under its own
 * prefix exactly once while the topic keeps flowing, and the registration dry run.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Producer } from 'kafkajs';
import { apiClient } from '../helpers/api.ts';
import { createTopic, highWatermarks, kafkaClient } from '../helpers/kafka.ts';
import { type SluiceProcess, TestCluster, uniqueName, waitFor } from '../helpers/processes.ts';
import { makeEvents, type ProducedRecord, verifyExactlyOnce } from '../helpers/records.ts';
import { createBucket, getText, listAll, s3Client } from '../helpers/s3.ts';
import { runSluice } from '../helpers/sluice-cli.ts';

const kafka = kafkaClient();
const s3 = s3Client();
const HOUR = 3_600_000;

function toHeaders(h: Array<[string, string]>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of h) out[k] = [...(out[k] ?? []), v];
  return out;
}

async function produce(
  producer: Producer,
  topic: string,
  records: ProducedRecord[],
  timestamp?: (r: ProducedRecord, i: number) => number,
) {
  for (let i = 0; i < records.length; i += 1000) {
    const slice = records.slice(i, i + 1000);
    await producer.send({
      topic,
      messages: slice.map((r, j) => ({
        partition: r.partition,
        key: r.key,
        value: r.value,
        headers: toHeaders(r.headers),
        ...(timestamp ? { timestamp: String(timestamp(r, i + j)) } : {}),
      })),
    });
  }
}

function hourFolderOf(ms: number): string {
  const d = new Date(ms).toISOString();
  return `dt=${d.slice(0, 10)}/hr=${d.slice(11, 13)}/`;
}

/** Waits until every partition of `topic` is committed to `hw`, with nothing left in flight. */
async function waitCommitted(api: ReturnType<typeof apiClient>, topic: string, hw: Map<number, bigint>) {
  return waitFor(
    `every partition of ${topic} committed to its high watermark`,
    async () => {
      const res = await api.get(`/api/v1/topics/${topic}`);
      if (res.status !== 200) return false;
      const parts = res.body.partitions as Array<{ partition: number; committedOffset: string; lag: number }>;
      return parts.length === hw.size &&
        parts.every((p) => BigInt(p.committedOffset) === hw.get(p.partition) && p.lag === 0)
        ? res.body
        : false;
    },
    240_000,
    500,
  );
}

describe('integrity: audit, finalizer, replay, dry run', () => {
  const cluster = new TestCluster({
    name: 'integrity',
    env: { SLUICE_AUDIT_INTERVAL_MS: '2000', SLUICE_FINALIZE_INTERVAL_MS: '1000' },
  });
  const bucket = uniqueName('it-integrity').toLowerCase();
  let master: SluiceProcess;
  let api: ReturnType<typeof apiClient>;
  let dropBucket: () => Promise<void>;

  const sluice = (args: string[]) => runSluice(master, cluster.token, args);

  before(async () => {
    dropBucket = (await createBucket(s3, bucket)).delete;
    master = await cluster.startMaster();
    await cluster.startWorker({ SLUICE_WORKER_CONCURRENCY: '2' });
    await cluster.startWorker({ SLUICE_WORKER_CONCURRENCY: '2' });
    api = apiClient(master.url, cluster.token);
  });

  after(async () => {
    await cluster.stopAll();
    await dropBucket?.();
  });

  test('a normal run audits clean (also --deep, and continuously); a dry run registers nothing', async () => {
    const topic = uniqueName('clean');
    const t = await createTopic(kafka, topic, 2);
    try {
      const produced = makeEvents(3000, {
        startMs: Date.now() - 2 * HOUR,
        spanMs: 2 * HOUR,
        partitions: 2,
        tombstoneEvery: 97,
      });
      await produce(t.producer, topic, produced);
      const hw = await highWatermarks(t.admin, topic);

      const body = {
        topic,
        destination: { bucket, prefix: 'clean' },
        partitionBy: { kind: 'event-time', field: 'event.ts', granularity: 'hour' },
        maxRangeMessages: 400,
        flushIntervalMs: 300,
      };
      // The dry run says what would happen, and stores nothing.
      const dry = await api.post('/api/v1/topics?dryRun=true', body);
      assert.equal(dry.status, 200, JSON.stringify(dry.body));
      assert.equal(dry.body.dryRun, true);
      assert.equal(dry.body.partitions.length, 2);
      assert.equal(BigInt(dry.body.backlog.records), 3000n);
      assert.ok(dry.body.backlog.bytes > 3000 * 100, `backlog bytes ${dry.body.backlog.bytes}`);
      assert.equal(dry.body.output.ranges, 8, '1500 offsets per partition in ranges of 400');
      assert.ok(dry.body.output.objects >= 8);
      assert.equal(dry.body.estimate.sampledRecords > 0, true);
      assert.deepEqual(
        dry.body.output.firstKeys,
        [0, 1].map(
          (p) =>
            `clean/${topic}/${hourFolderOf(produced.find((r) => r.partition === p)!.eventMs!)}${topic}-${p}-${'0'.repeat(20)}-${'0'.repeat(17)}400.jsonl.gz`,
        ),
      );
      assert.equal((await api.get(`/api/v1/topics/${topic}`)).status, 404, 'a dry run registers nothing');

      assert.equal((await api.post('/api/v1/topics', body)).status, 201);
      await waitCommitted(api, topic, hw);

      const audit = await api.get(`/api/v1/topics/${topic}/audit`);
      assert.equal(audit.status, 200, JSON.stringify(audit.body));
      assert.equal(audit.body.ok, true, JSON.stringify(audit.body.findings));
      assert.equal(audit.body.problems, 0);
      assert.deepEqual(
        audit.body.partitions.map((p: { partition: number; from: string; to: string; records: number }) => [
          p.partition,
          p.from,
          p.to,
        ]),
        [
          [0, '0', String(hw.get(0))],
          [1, '0', String(hw.get(1))],
        ],
      );
      assert.equal(
        audit.body.partitions.reduce((n: number, p: { records: number }) => n + p.records, 0),
        3000,
      );
      const deep = await sluice(['audit', topic, '--deep']);
      assert.equal(deep.code, 0, deep.stdout + deep.stderr);
      assert.match(deep.stdout, new RegExp(`${topic}: OK \\(deep\\)`));

      // The leader's continuous audit reaches the same verdict, on /status and /metrics.
      const seen = await waitFor('the continuous audit of the topic', async () => {
        const s = await api.get('/api/v1/status');
        const mine = s.body.topics?.find((x: { topic: string }) => x.topic === topic);
        return mine?.audit ? mine.audit : false;
      });
      assert.equal(seen.problems, 0, JSON.stringify(seen));
      const metrics = await (await fetch(`${master.url}/metrics`)).text();
      assert.match(metrics, new RegExp(`sluice_audit_problems\\{topic="${topic}"\\} 0`));
    } finally {
      await t.delete();
    }
  });

  test('the audit finds a deleted object, an object added by hand and a gap made by retention', async () => {
    const topic = uniqueName('holes');
    const t = await createTopic(kafka, topic, 1);
    try {
      const first = makeEvents(600, { startMs: Date.now(), spanMs: 1000, partitions: 1, prefix: 'a' });
      await produce(t.producer, topic, first);
      const res = await api.post('/api/v1/topics', {
        topic,
        destination: { bucket, prefix: 'holes' },
        partitionBy: { kind: 'none' },
        maxRangeMessages: 200,
        flushIntervalMs: 300,
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      await waitCommitted(api, topic, new Map([[0, 600n]]));

      // Paused, the topic falls behind; retention then deletes offsets Sluice never read.
      assert.equal((await api.patch(`/api/v1/topics/${topic}`, { paused: true })).status, 200);
      await produce(
        t.producer,
        topic,
        makeEvents(600, { startMs: Date.now(), spanMs: 1000, partitions: 1, prefix: 'b' }),
      );
      await highWatermarks(t.admin, topic); // loads the topic's leaders into the admin client
      await t.admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '900' }] });
      assert.equal((await api.patch(`/api/v1/topics/${topic}`, { paused: false })).status, 200);
      await waitCommitted(api, topic, new Map([[0, 1200n]]));

      // Someone deletes an object Sluice wrote, and puts one of their own in the topic's folder.
      const root = `holes/${topic}/`;
      const data = (await listAll(s3, bucket, root)).filter((o) => !o.key.includes('/_sluice/'));
      const victim = data.find((o) => o.key.includes(`-0-${'0'.repeat(17)}900-`))!;
      assert.ok(victim, data.map((o) => o.key).join());
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: victim.key }));
      const byHand = `${root}notes-by-hand.jsonl`;
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: byHand, Body: '{"hello":"world"}\n' }));

      const audit = await api.get(`/api/v1/topics/${topic}/audit`);
      assert.equal(audit.status, 200);
      assert.equal(audit.body.ok, false);
      const kinds = audit.body.findings.map((f: { kind: string }) => f.kind).sort();
      assert.deepEqual(kinds, ['extra-object', 'gap', 'missing-object'], JSON.stringify(audit.body.findings));
      const gap = audit.body.findings.find((f: { kind: string }) => f.kind === 'gap');
      assert.deepEqual([gap.partition, gap.start, gap.end, gap.cause], [0, '600', '900', 'retention']);
      assert.equal(
        audit.body.findings.find((f: { kind: string }) => f.kind === 'missing-object').key,
        victim.key,
      );
      assert.equal(audit.body.findings.find((f: { kind: string }) => f.kind === 'extra-object').key, byHand);
      assert.equal(audit.body.partitions[0].retentionGapOffsets, '300');

      // A window before the damage is clean; the CLI exits 4 on the whole topic.
      const early = await api.get(`/api/v1/topics/${topic}/audit?partition=0&fromOffset=0&toOffset=600`);
      assert.equal(early.body.ok, true, JSON.stringify(early.body.findings));
      const cli = await sluice(['audit', topic]);
      assert.equal(cli.code, 4, cli.stdout + cli.stderr);
      assert.match(cli.stdout, /3 problems/);
      assert.match(cli.stdout, /gap: partition 0: gap \[600, 900\) \(retention\)/);
      const json = await sluice(['audit', topic, '--json']);
      assert.equal(json.code, 4);
      assert.equal(JSON.parse(json.stdout).problems, 3);

      // The continuous audit saw the retention gap in the commit records it checked.
      await waitFor('the continuous audit to count the retention gap', async () => {
        const s = await api.get('/api/v1/status');
        const mine = s.body.topics?.find((x: { topic: string }) => x.topic === topic);
        return (mine?.audit?.problems ?? 0) >= 1;
      });
      const metrics = await (await fetch(`${master.url}/metrics`)).text();
      const m = new RegExp(`sluice_audit_problems\\{topic="${topic}"\\} (\\d+)`).exec(metrics);
      assert.ok(m && Number(m[1]) >= 1, 'sluice_audit_problems counts it');
    } finally {
      await t.delete();
    }
  });

  test('_SUCCESS lands in each complete hour folder and in no incomplete one; late data is counted', async () => {
    const topic = uniqueName('hours');
    // Timestamps up to an hour ahead must be accepted by the broker for the "incomplete" folder.
    const t = await createTopic(kafka, topic, 2, [
      { name: 'message.timestamp.after.max.ms', value: String(2 * HOUR) },
    ]);
    try {
      const now = Date.now();
      const h0 = Math.floor(now / HOUR) * HOUR;
      const past = [h0 - 3 * HOUR, h0 - 2 * HOUR, h0 - HOUR];
      const future = now + 30 * 60_000; // its hour ends after now: never complete during the test
      const records = makeEvents(1200, { startMs: 0, spanMs: 1, partitions: 2 });
      // Records arrive in hour order (each partition's offsets follow time): a folder is complete
      // once a partition committed past it, so no record of it can come later and none is late.
      // (Hours interleaved within a range would make some records late by the finalizer's rule
      // whenever a pass ran between two commits: a race of the test, seen under load.)
      const hourOf = (i: number) => Math.floor((i * 3) / 1100);
      const times = records.map((_, i) => (i < 1100 ? past[hourOf(i)]! + (i % 1000) * 1000 : future));
      await produce(t.producer, topic, records, (_r, i) => times[i]!);
      const hw = await highWatermarks(t.admin, topic);
      const res = await api.post('/api/v1/topics', {
        topic,
        destination: { bucket, prefix: 'hours' },
        partitionBy: { kind: 'kafka-time', granularity: 'hour' },
        maxRangeMessages: 250,
        flushIntervalMs: 300,
        finalizeLatenessMs: 1000,
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.body.finalizeLatenessMs, 1000);
      await waitCommitted(api, topic, hw);

      const root = `hours/${topic}/`;
      const marker = (ms: number) => `${root}${hourFolderOf(ms)}_SUCCESS`;
      await waitFor('_SUCCESS in the three past hours', async () => {
        const keys = new Set((await listAll(s3, bucket, root)).map((o) => o.key));
        return past.every((h) => keys.has(marker(h)));
      });
      for (const [i, h] of past.entries()) {
        const m = JSON.parse(await getText(s3, bucket, marker(h)));
        const expected = times.slice(0, 1100).filter((_, j) => hourOf(j) === i).length;
        assert.equal(m.records, expected, `records of ${hourFolderOf(h)}`);
        assert.equal(m.folder, hourFolderOf(h));
        assert.equal(m.lateRecords, 0);
        assert.ok(m.objects >= 2, 'both partitions wrote into the hour');
      }
      // Every folder holding data is either complete (marked) or the incomplete future one.
      const folders = new Set(
        (await listAll(s3, bucket, root))
          .map((o) => o.key.slice(root.length))
          .filter((k) => k.startsWith('dt='))
          .map((k) => k.slice(0, k.lastIndexOf('/') + 1)),
      );
      assert.ok(folders.has(hourFolderOf(future)), 'the incomplete folder has data');
      await new Promise((r) => setTimeout(r, 3000)); // a few more finalizer passes
      const keys = new Set((await listAll(s3, bucket, root)).map((o) => o.key));
      assert.equal(keys.has(marker(future)), false, 'no _SUCCESS in a folder whose hour has not ended');
      for (const f of folders) {
        if (f !== hourFolderOf(future))
          assert.ok(keys.has(`${root}${f}_SUCCESS`), `${f} is complete and marked`);
      }
      const status = (await api.get('/api/v1/status')).body.topics.find(
        (x: { topic: string }) => x.topic === topic,
      );
      assert.ok(status.finalizer, 'status shows the finalizer');
      assert.ok(
        status.finalizer.newestFinalized >= hourFolderOf(h0 - HOUR),
        `newest finalized ${status.finalizer.newestFinalized}`,
      );

      // A late record for a finalized hour: written into its folder, counted, marker updated.
      const late = makeEvents(1, { startMs: 0, spanMs: 1, partitions: 1, prefix: 'late' });
      await produce(t.producer, topic, late, () => past[0]! + 5_000);
      const hw2 = await highWatermarks(t.admin, topic);
      await waitCommitted(api, topic, hw2);
      await waitFor('the late record to be counted in the marker', async () => {
        const m = JSON.parse(await getText(s3, bucket, marker(past[0]!)));
        return m.lateRecords === 1 ? m : false;
      });
      await waitFor('status to count the late record', async () => {
        const s = (await api.get('/api/v1/status')).body.topics.find(
          (x: { topic: string }) => x.topic === topic,
        );
        return s?.finalizer?.lateRecords === 1;
      });
      const metrics = await (await fetch(`${master.url}/metrics`)).text();
      assert.match(metrics, new RegExp(`sluice_late_records_total\\{topic="${topic}"\\} 1`));
    } finally {
      await t.delete();
    }
  });

  test('a replay of a window lands under its prefix exactly once while the topic keeps flowing', async () => {
    const topic = uniqueName('replayed');
    const t = await createTopic(kafka, topic, 2);
    let flowing = true;
    const live: ProducedRecord[] = [];
    try {
      const first = makeEvents(2000, { startMs: Date.now(), spanMs: 60_000, partitions: 2, prefix: 'first' });
      await produce(t.producer, topic, first);
      live.push(...first);
      const reg = await api.post('/api/v1/topics', {
        topic,
        destination: { bucket, prefix: 'live' },
        maxRangeMessages: 300,
        flushIntervalMs: 300,
      });
      assert.equal(reg.status, 201);
      await waitCommitted(api, topic, await highWatermarks(t.admin, topic));

      // A destination inside (or holding) the live topic's folder is refused.
      for (const prefix of ['live', `live/${topic}/again`]) {
        const bad = await api.post('/api/v1/replays', { topic, destination: { bucket, prefix } });
        assert.equal(bad.status, 409, `prefix "${prefix}": ${JSON.stringify(bad.body)}`);
        assert.equal(bad.body.code, 'SLUICE_ERR_DESTINATION_OVERLAP');
        assert.match(bad.body.message, /destination\.prefix: .* the folder of topic/);
      }

      // The topic keeps flowing while the replay runs.
      let n = 0;
      const flow = (async () => {
        while (flowing) {
          const batch = makeEvents(50, {
            startMs: Date.now(),
            spanMs: 1000,
            partitions: 2,
            prefix: `more${n++}`,
          });
          await produce(t.producer, topic, batch);
          live.push(...batch);
          await new Promise((r) => setTimeout(r, 200));
        }
      })();

      const started = await sluice([
        'replay',
        'start',
        topic,
        '--bucket',
        bucket,
        '--prefix',
        'replays/r1',
        '--from-offset',
        '100',
        '--to-offset',
        '700',
        '--compression',
        'zstd',
        '--partition-by',
        'none',
        '--max-range-messages',
        '150',
        '--json',
      ]);
      assert.equal(started.code, 0, started.stdout + started.stderr);
      const replay = JSON.parse(started.stdout);
      assert.match(replay.id, /^r-/);
      assert.deepEqual(replay.partitions, [
        { partition: 0, start: '100', end: '700' },
        { partition: 1, start: '100', end: '700' },
      ]);
      const done = await waitFor(
        'the replay to finish',
        async () => {
          const r = await api.get(`/api/v1/replays/${replay.id}`);
          return r.body.state === 'done' ? r.body : false;
        },
        180_000,
      );
      assert.equal(done.progress.remaining, '0');
      assert.equal(done.progress.records, 1200);
      // The status answer is cached for a second, so it may show the replay running a moment longer.
      await waitFor('the status to show the replay done', async () => {
        const inStatus = (await api.get('/api/v1/status')).body.replays.find(
          (r: { id: string }) => r.id === replay.id,
        );
        return inStatus?.state === 'done';
      });
      const shown = await sluice(['replay', 'show', replay.id]);
      assert.equal(shown.code, 0, shown.stderr);
      assert.match(shown.stdout, new RegExp(replay.id));

      // Exactly once under the replay's prefix: offsets [100, 700) of each partition, each once,
      // in objects its commit records list, and nothing else.
      const root = `replays/r1/${topic}/`;
      const all = await listAll(s3, bucket, root);
      const data = all.filter((o) => !o.key.includes('/_sluice/'));
      const listed = new Set<string>();
      for (const c of all.filter((o) => o.key.includes('/_sluice/commits/'))) {
        for (const o of JSON.parse(await getText(s3, bucket, c.key)).objects) listed.add(o.key);
      }
      assert.deepEqual(
        data.map((o) => o.key).sort(),
        [...listed].sort(),
        'every object is listed by a commit record',
      );
      assert.ok(
        data.every((o) => /^replays\/r1\/[^/]+\/[^/]+-\d-\d{20}-\d{20}\.jsonl\.zst$/.test(o.key)),
        data[0]?.key,
      );
      const byKey = new Map(first.map((p) => [p.key, p]));
      const offsets = new Map<number, number[]>();
      for (const o of data) {
        for (const line of (await getText(s3, bucket, o.key)).split('\n')) {
          if (!line) continue;
          const rec = JSON.parse(line);
          offsets.set(rec.partition, [...(offsets.get(rec.partition) ?? []), rec.offset]);
          const p = byKey.get(rec.key);
          assert.ok(p, `replayed record ${rec.key} was produced before the replay`);
          assert.deepEqual(rec.value, JSON.parse(p.value!));
        }
      }
      for (const p of [0, 1]) {
        const got = (offsets.get(p) ?? []).sort((a, b) => a - b);
        assert.deepEqual(
          got,
          Array.from({ length: 600 }, (_, i) => 100 + i),
          `partition ${p}: offsets 100 to 699 once each`,
        );
      }
      const replayAudit = await api.get(`/api/v1/topics/${topic}/audit`);
      assert.equal(replayAudit.body.ok, true, 'the live folder is untouched by the replay');

      // The live topic went on meanwhile, exactly once.
      flowing = false;
      await flow;
      const hw = await highWatermarks(t.admin, topic);
      assert.ok(hw.get(0)! > 1000n, 'the topic kept flowing');
      await waitCommitted(api, topic, hw);
      await verifyExactlyOnce({ s3, bucket, prefix: 'live', topic, produced: live, highWatermarks: hw });
      assert.equal((await api.get(`/api/v1/topics/${topic}/audit`)).body.ok, true);
    } finally {
      flowing = false;
      await t.delete();
    }
  });
});
