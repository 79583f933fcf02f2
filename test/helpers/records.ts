/**
 * Test data as a user's log stream would have it, and the check every end-to-end test ends
 * with: each produced record in S3 exactly once, every offset exactly once, values, keys and
 * headers as produced, each record under the time folder it belongs in, and nothing in S3
 * that no commit record lists.
 */
import assert from 'node:assert/strict';
import type { S3Client } from '@aws-sdk/client-s3';
import type { ObjectEntry, RangeResult } from '@sluice/shared';
import { getText, type ListedObject, listAll } from './s3.ts';

/** A commit record as S3 holds it. */
export type CommitRecordBody = Pick<RangeResult, 'records' | 'objects' | 'attempt' | 'rejected'>;

export interface ProducedRecord {
  key: string;
  value: string | null;
  /** Bytes sent instead of `value` when set (values that are not UTF-8). */
  valueBytes?: Buffer;
  headers: Array<[string, string]>;
  /** Event time (ms) the value carries, if any. */
  eventMs: number | null;
  partition: number;
}

/** `count` log events with unique ids over `spanMs` from `startMs`; every `tombstoneEvery`th is a tombstone. */
export function makeEvents(
  count: number,
  opts: { startMs: number; spanMs: number; partitions: number; tombstoneEvery?: number; prefix?: string },
): ProducedRecord[] {
  const out: ProducedRecord[] = [];
  const levels = ['INFO', 'WARN', 'ERROR', 'DEBUG'];
  for (let i = 0; i < count; i++) {
    const id = `${opts.prefix ?? 'ev'}-${String(i).padStart(7, '0')}`;
    const partition = i % opts.partitions;
    const key = `host-${i % 997}-${id}`;
    const headers: Array<[string, string]> = [
      ['trace', `t-${i}`],
      ['tag', 'a'],
      ['tag', `b-${i % 5}`],
    ];
    if (opts.tombstoneEvery && i % opts.tombstoneEvery === opts.tombstoneEvery - 1) {
      out.push({ key, value: null, headers, eventMs: null, partition });
      continue;
    }
    const eventMs = opts.startMs + Math.floor((i * opts.spanMs) / count);
    const ts = i % 2 === 0 ? JSON.stringify(new Date(eventMs).toISOString()) : String(eventMs);
    const value = `{"id":"${id}","event":{"ts":${ts},"host":"web-${i % 37}","level":"${levels[i % 4]}"},"bytes":${(i * 7919) % 100000},"big":1234567890123456789${i % 10},"msg":"GET /api/items/${i} 200"}`;
    out.push({ key, value, headers, eventMs, partition });
  }
  return out;
}

/** A value as `jsonl` embeds it: parsed when it is a JSON text (other than `null`), else the string. */
function jsonOrText(value: string): unknown {
  try {
    const parsed: unknown = JSON.parse(value);
    return parsed === null ? value : parsed;
  } catch {
    return value;
  }
}

export function hourFolder(ms: number): string {
  const d = new Date(ms).toISOString();
  return `dt=${d.slice(0, 10)}/hr=${d.slice(11, 13)}/`;
}

export interface OutputLine {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: string | null;
  headers: Array<{ key: string; value: string | null }>;
  value: unknown;
  valueEncoding?: string;
}

export interface VerifyOptions {
  s3: S3Client;
  bucket: string;
  prefix: string;
  topic: string;
  produced: ProducedRecord[];
  /** High watermark of each partition: every offset below it must be in S3 once, unless `allowOffsetGaps`. */
  highWatermarks: Map<number, bigint>;
  /** Expected folder of a line, e.g. by event hour; return null to skip the check. */
  folderOf?: (line: OutputLine, produced: ProducedRecord) => string | null;
  /** Compacted or transactional topics: offsets may be missing. */
  allowOffsetGaps?: boolean;
  /**
   * First offset of each partition that must be in S3 (retention deleted those below before
   * Sluice read them): offsets from here to the high watermark must be in S3 once, and none below.
   */
  logStartOffsets?: Map<number, bigint>;
  /** Extra check of each line's exact text (e.g. that big integers kept their digits). */
  checkLineText?: (lineText: string, produced: ProducedRecord) => void;
}

/**
 * The topic's data objects (every key under `root` with no `_` segment) and the commit records'
 * entries of them, checking that the two lists name the same objects: nothing in S3 that no
 * commit record lists, and nothing listed that is not in S3.
 */
export async function committedObjects(
  s3: S3Client,
  bucket: string,
  root: string,
): Promise<{ data: ListedObject[]; listed: Map<string, ObjectEntry>; commits: CommitRecordBody[] }> {
  const all = await listAll(s3, bucket, root);
  const data = all.filter(
    (x) =>
      !x.key
        .slice(root.length)
        .split('/')
        .some((s) => s.startsWith('_')),
  );
  const listed = new Map<string, ObjectEntry>();
  const commits: CommitRecordBody[] = [];
  for (const c of all.filter((x) => x.key.startsWith(`${root}_sluice/commits/`))) {
    const rec = JSON.parse(await getText(s3, bucket, c.key)) as CommitRecordBody;
    commits.push(rec);
    for (const obj of rec.objects) listed.set(obj.key, obj);
  }
  for (const d of data)
    assert.ok(listed.has(d.key), `object ${d.key} is in S3 but no commit record lists it`);
  for (const k of listed.keys())
    assert.ok(
      data.some((d) => d.key === k),
      `commit record lists ${k} but it is not in S3`,
    );
  return { data, listed, commits };
}

/** Reads every object back and checks exactly-once. Returns the lines by key. */
export async function verifyExactlyOnce(o: VerifyOptions): Promise<Map<string, OutputLine>> {
  const root = o.prefix ? `${o.prefix}/${o.topic}/` : `${o.topic}/`;
  const { data } = await committedObjects(o.s3, o.bucket, root);

  const byKey = new Map<string, OutputLine>();
  const offsets = new Map<number, Set<number>>();
  const producedByKey = new Map(o.produced.map((p) => [p.key, p]));
  for (const obj of data) {
    const text = await getText(o.s3, o.bucket, obj.key);
    const folder = obj.key.slice(root.length, obj.key.lastIndexOf('/') + 1);
    for (const lineText of text.split('\n')) {
      if (lineText === '') continue;
      const line = JSON.parse(lineText) as OutputLine;
      assert.equal(line.topic, o.topic);
      const seen = offsets.get(line.partition) ?? new Set<number>();
      assert.ok(!seen.has(line.offset), `offset ${line.partition}/${line.offset} appears twice`);
      seen.add(line.offset);
      offsets.set(line.partition, seen);
      assert.ok(line.key !== null, 'test records all have keys');
      assert.ok(!byKey.has(line.key), `record ${line.key} appears twice`);
      byKey.set(line.key, line);
      const p = producedByKey.get(line.key);
      assert.ok(p, `record ${line.key} in S3 was never produced`);
      assert.equal(line.partition, p.partition, `record ${line.key} partition`);
      assert.deepEqual(
        line.headers.map((h) => [h.key, h.value]),
        p.headers,
        `headers of ${line.key} (order and repeats kept)`,
      );
      if (p.valueBytes) {
        assert.equal(line.valueEncoding, 'base64', `value of ${line.key} is not UTF-8: base64`);
        assert.equal(line.value, p.valueBytes.toString('base64'), `value of ${line.key}`);
      } else if (p.value === null) assert.equal(line.value, null, `tombstone ${line.key} value`);
      else assert.deepEqual(line.value, jsonOrText(p.value), `value of ${line.key}`);
      if (o.checkLineText) o.checkLineText(lineText, p);
      if (o.folderOf) {
        const want = o.folderOf(line, p);
        if (want !== null) assert.equal(folder, want, `record ${line.key} folder`);
      }
    }
  }
  for (const p of o.produced) assert.ok(byKey.has(p.key), `produced record ${p.key} is missing from S3`);
  assert.equal(byKey.size, o.produced.length);
  if (!o.allowOffsetGaps) {
    for (const [partition, hw] of o.highWatermarks) {
      const seen = offsets.get(partition) ?? new Set<number>();
      const logStart = o.logStartOffsets?.get(partition) ?? 0n;
      assert.equal(
        BigInt(seen.size),
        hw - logStart,
        `partition ${partition}: ${seen.size} offsets in S3, log start ${logStart}, high watermark ${hw}`,
      );
      const from = Number(o.logStartOffsets?.get(partition) ?? 0n);
      for (let i = from; i < Number(hw); i++) assert.ok(seen.has(i), `offset ${partition}/${i} missing`);
      for (const off of seen)
        assert.ok(off >= from, `offset ${partition}/${off} is below the log start ${from}`);
    }
  }
  return byKey;
}
