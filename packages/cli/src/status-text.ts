/** Pure: `GET /api/v1/status` → the text `sluice status` prints. */
import type { StatusAnswer } from '@sluice/master/answer-types';
import { formatBytes, formatCount, formatDuration, formatRate, table } from './table.ts';

type Rate = StatusAnswer['throughput']['m1'];

function rate(r: Rate | undefined): string {
  return r ? `${formatRate(r.recordsPerSec)} records/s, ${formatBytes(r.bytesPerSec)}/s` : '-';
}

export function statusText(s: StatusAnswer): string {
  const lines: string[] = [];
  const leader = s.leader
    ? `${s.leader.id} on ${s.leader.host} (${s.leader.httpAddress})`
    : 'none (no master leads: nothing is planned or committed)';
  lines.push(`leader:     ${leader}`);
  const sum = s.summary ?? {};
  const r = sum.ranges ?? { planned: 0, active: 0, done: 0, failed: 0 };
  lines.push(
    `lag:        ${formatCount(sum.lag)} records; oldest waiting ${formatDuration(sum.lagMs)}`,
    `throughput: ${rate(s.throughput?.m1)} (1 min); ${rate(s.throughput?.m15)} (15 min)`,
    `ranges:     ${r.planned} planned, ${r.active} active, ${r.done} done, ${r.failed} failed`,
    `workers:    ${formatCount(sum.workers)}${s.queue ? `; queue ${s.queue.waiting + s.queue.prioritized} waiting, ${s.queue.active} active` : s.queueError ? `; queue: ${s.queueError}` : ''}`,
    '',
  );
  const topics = s.topics ?? [];
  if (topics.length === 0) {
    lines.push('no topics registered (sluice topics add <topic> --bucket B)');
  } else {
    lines.push(
      table(
        [
          'TOPIC',
          'STATE',
          'PARTITIONS',
          'COMMITTED',
          'LAG',
          'LAG TIME',
          'RECORDS/S',
          'RANGES P/A/D/F',
          'PATTERN',
        ],
        topics.map((t) => [
          t.topic,
          t.state === 'active' && t.paused ? 'paused' : t.state,
          (t.partitions ?? []).length,
          formatCount(t.committedRecords),
          formatCount(t.lag),
          formatDuration(t.lagMs),
          formatRate(t.throughput?.m1?.recordsPerSec),
          t.ranges ? `${t.ranges.planned}/${t.ranges.active}/${t.ranges.done}/${t.ranges.failed}` : '-',
          t.pattern ?? '-',
        ]),
      ),
    );
    for (const t of topics) {
      for (const e of [t.error, t.kafkaError].filter(Boolean)) lines.push(`  ${t.topic}: ${e}`);
    }
  }
  const failures = s.recentFailures ?? [];
  if (failures.length > 0) {
    lines.push('', 'recent failures (sluice ranges retry <range> to try again now):');
    for (const f of failures) {
      lines.push(
        `  ${f.id}  ${f.state}, attempt ${f.attempt}, ${f.failures} failed: ${f.error ?? '(no error text)'}`,
      );
    }
  }
  const notReady = (s.workers ?? []).filter((w) => w.ready === false);
  if (notReady.length > 0) {
    lines.push('', 'workers taking no jobs until their probe passes (fix their own setup):');
    for (const w of notReady) lines.push(`  ${w.id}: ${w.notReadyReason ?? 'not ready'}`);
  }
  const file = s.topicsFile;
  if (file) {
    // The leader's report on SLUICE_TOPICS_FILE: whether the file is in force, and what it refused.
    lines.push(
      '',
      `topics file ${file.path}: ${file.result}${file.appliedAt ? ` (applied ${file.appliedAt})` : ''}`,
    );
    if (file.error) lines.push(`  ${file.error}`);
    for (const x of file.refusals)
      lines.push(`  refused ${x.topic}${x.line ? ` (line ${x.line})` : ''}: ${x.code}: ${x.message}`);
  }
  const gaps = s.gaps ?? [];
  if (gaps.length > 0) {
    lines.push('', 'offsets lost to retention before they were read:');
    for (const g of gaps) lines.push(`  ${g.topic}/${g.partition}: ${formatCount(g.lostOffsets)}`);
  }
  return lines.join('\n');
}
