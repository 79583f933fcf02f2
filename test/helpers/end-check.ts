/**
 * The check every fault test ends with, as a user would make it: the API says each partition
 * is committed to its high watermark with nothing in flight and nothing failed; the commit
 * records of each partition tile its offset line with no gap and no overlap; every produced
 * record is in S3 exactly once and every offset exactly once (records.ts; Parquet topics as
 * pyarrow reads them, parquet-events.ts); nothing in S3 that no commit record lists; no
 * multipart upload left open.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3';
import { checkTiling } from '@sluice/shared';
import type { Admin } from 'kafkajs';
import type { apiClient } from './api.ts';
import { highWatermarks } from './kafka.ts';
import { verifyParquetExactlyOnce } from './parquet-events.ts';
import { waitFor } from './processes.ts';
import { type OutputLine, type ProducedRecord, verifyExactlyOnce } from './records.ts';
import { getBytes, getText, listAll } from './s3.ts';

export type Api = ReturnType<typeof apiClient>;

interface PartitionBody {
  partition: number;
  committedOffset: string;
  highWatermark: string;
  lag: number;
  ranges: Array<{ id: string; state: string; error: string | null }>;
}

/** Waits until every partition's committed offset is its high watermark `hw`; returns the topic view. */
export async function waitCommitted(
  api: Api,
  topic: string,
  hw: Map<number, bigint>,
  timeoutMs = 240_000,
): Promise<{ partitions: PartitionBody[] } & Record<string, unknown>> {
  return waitFor(
    `every partition of ${topic} committed to its high watermark`,
    async () => {
      const res = await api.get(`/api/v1/topics/${topic}`);
      if (res.status !== 200) return false;
      const parts = res.body.partitions as PartitionBody[];
      if (parts.length !== hw.size) return false;
      return parts.every(
        (p) =>
          BigInt(p.committedOffset) === hw.get(p.partition) &&
          BigInt(p.highWatermark) === hw.get(p.partition) &&
          p.lag === 0,
      )
        ? res.body
        : false;
    },
    timeoutMs,
    500,
  );
}

/** Each partition's commit records (`_sluice/commits/partition=N/{s20}-{e20}.json`) as spans. */
export async function commitSpans(
  s3: S3Client,
  bucket: string,
  prefix: string,
  topic: string,
): Promise<Map<number, Array<{ start: bigint; end: bigint; key: string }>>> {
  const root = `${prefix ? `${prefix}/` : ''}${topic}/_sluice/commits/`;
  const out = new Map<number, Array<{ start: bigint; end: bigint; key: string }>>();
  for (const o of await listAll(s3, bucket, root)) {
    const m = /partition=(\d+)\/(\d{20})-(\d{20})\.json$/.exec(o.key);
    assert.ok(m, `unexpected object under the commit records: ${o.key}`);
    const list = out.get(Number(m[1])) ?? [];
    list.push({ start: BigInt(m[2]!), end: BigInt(m[3]!), key: o.key });
    out.set(Number(m[1]), list);
  }
  return out;
}

/** Incomplete multipart uploads under `prefix`. */
export async function openUploads(
  s3: S3Client,
  bucket: string,
  prefix: string,
): Promise<Array<{ key: string; uploadId: string; initiated: Date | undefined }>> {
  const out: Array<{ key: string; uploadId: string; initiated: Date | undefined }> = [];
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  for (;;) {
    const page = await s3.send(
      new ListMultipartUploadsCommand({
        Bucket: bucket,
        Prefix: prefix,
        KeyMarker: keyMarker,
        UploadIdMarker: uploadIdMarker,
      }),
    );
    for (const u of page.Uploads ?? [])
      out.push({ key: u.Key!, uploadId: u.UploadId!, initiated: u.Initiated });
    if (!page.IsTruncated || !page.NextKeyMarker) return out;
    keyMarker = page.NextKeyMarker;
    uploadIdMarker = page.NextUploadIdMarker;
  }
}

export interface ObjectFacts {
  size: number;
  etag: string;
  lastModified: number;
  sha256: string;
}

/** Every object under `prefix` with its bytes' SHA-256, to prove later that none changed. */
export async function snapshotObjects(
  s3: S3Client,
  bucket: string,
  prefix: string,
): Promise<Map<string, ObjectFacts>> {
  const out = new Map<string, ObjectFacts>();
  for (const o of await listAll(s3, bucket, prefix)) {
    const sha256 = createHash('sha256')
      .update(await getBytes(s3, bucket, o.key))
      .digest('hex');
    out.set(o.key, { size: o.size, etag: o.etag, lastModified: o.lastModified?.getTime() ?? 0, sha256 });
  }
  return out;
}

/** Objects of `before` that are gone or whose bytes, ETag or modification time changed in `after`. */
export function changedObjects(before: Map<string, ObjectFacts>, after: Map<string, ObjectFacts>): string[] {
  const changed: string[] = [];
  for (const [key, b] of before) {
    const a = after.get(key);
    if (!a) changed.push(`${key} is gone`);
    else if (a.sha256 !== b.sha256 || a.etag !== b.etag || a.lastModified !== b.lastModified) {
      changed.push(`${key} was rewritten (${b.sha256.slice(0, 12)} -> ${a.sha256.slice(0, 12)})`);
    }
  }
  return changed;
}

export interface EndCheckOptions {
  api: Api;
  s3: S3Client;
  admin: Admin;
  bucket: string;
  prefix: string;
  topic: string;
  produced: ProducedRecord[];
  /** First offset each partition must have in S3 (retention gaps); 0 by default. */
  logStartOffsets?: Map<number, bigint>;
  timeoutMs?: number;
  /** Extra per-line checks (records.ts; jsonl only). */
  folderOf?: (line: OutputLine, produced: ProducedRecord) => string | null;
  /**
   * `parquet`: a topic registered with EVENTS_AS_PARQUET, read back by pyarrow
   * (parquet-events.ts) instead of as JSON lines. `jsonl` by default.
   */
  format?: 'jsonl' | 'parquet';
}

export interface EndCheckResult {
  highWatermarks: Map<number, bigint>;
  commitRecords: number;
  dataObjects: number;
}

/** The exactly-once end check of a fault test. */
export async function verifyEnd(o: EndCheckOptions): Promise<EndCheckResult> {
  const hw = await highWatermarks(o.admin, o.topic);
  const produced = [...hw.values()].reduce((a, b) => a + b, 0n);
  const logStart = [...(o.logStartOffsets?.values() ?? [])].reduce((a, b) => a + b, 0n);
  assert.equal(
    produced - logStart,
    BigInt(o.produced.length),
    'high watermarks add up to the records produced',
  );

  const view = await waitCommitted(o.api, o.topic, hw, o.timeoutMs);
  for (const p of view.partitions) {
    assert.deepEqual(p.ranges, [], `partition ${p.partition}: no range left in flight`);
  }
  // The status answer is cached for a second and computed from a ZooKeeper read that may have
  // begun before the last commit: read it until it caught up (bounded), then assert on it.
  type StatusBody = {
    topics: Array<{ topic: string; state: string; error: string | null }>;
    recentFailures: Array<{ topic: string }>;
  };
  const deadline = Date.now() + 15_000;
  let status: StatusBody;
  for (;;) {
    status = (await o.api.get('/api/v1/status')).body as StatusBody;
    const t = status.topics.find((x) => x.topic === o.topic);
    const settled = t?.state === 'active' && !status.recentFailures.some((f) => f.topic === o.topic);
    if (settled || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const mine = status.topics.find((t) => t.topic === o.topic);
  assert.ok(mine, 'status lists the topic');
  assert.equal(mine.state, 'active', `topic state (error: ${mine.error})`);
  assert.deepEqual(
    status.recentFailures.filter((f) => f.topic === o.topic),
    [],
    'no failed range left',
  );

  const spans = await commitSpans(o.s3, o.bucket, o.prefix, o.topic);
  let commitRecords = 0;
  for (const [partition, high] of hw) {
    const list = spans.get(partition) ?? [];
    commitRecords += list.length;
    const from = o.logStartOffsets?.get(partition) ?? 0n;
    // Retention may have swallowed whole ranges: the first commit record starts at or below the log start.
    let first = high;
    for (const s of list) if (s.start < first) first = s.start;
    assert.ok(
      first <= from,
      `partition ${partition}: commit records start at ${first}, after the log start ${from}`,
    );
    assert.equal(
      checkTiling(list.length > 0 ? first : high, list),
      high,
      `partition ${partition}: commit records reach the high watermark`,
    );
    if (list.length > 0 && !o.logStartOffsets)
      assert.equal(first, 0n, `partition ${partition}: commit records start at 0`);
  }
  for (const p of spans.keys()) assert.ok(hw.has(p), `commit records of a partition the topic lacks: ${p}`);

  if (o.format === 'parquet') {
    assert.ok(!o.logStartOffsets && !o.folderOf, 'the Parquet check reads whole topics by event hour');
    await verifyParquetExactlyOnce({ ...o, highWatermarks: hw });
  } else {
    await verifyExactlyOnce({
      s3: o.s3,
      bucket: o.bucket,
      prefix: o.prefix,
      topic: o.topic,
      produced: o.produced,
      highWatermarks: hw,
      ...(o.logStartOffsets ? { logStartOffsets: o.logStartOffsets } : {}),
      ...(o.folderOf ? { folderOf: o.folderOf } : {}),
    });
  }

  // Each commit record's object list matches what is in S3 (verifyExactlyOnce), and its counts add up.
  let records = 0;
  let dataObjects = 0;
  for (const list of spans.values()) {
    for (const c of list) {
      const rec = JSON.parse(await getText(o.s3, o.bucket, c.key)) as { records: number; objects: unknown[] };
      records += rec.records;
      dataObjects += rec.objects.length;
    }
  }
  assert.equal(records, o.produced.length, 'commit records count every record once');
  return { highWatermarks: hw, commitRecords, dataObjects };
}
