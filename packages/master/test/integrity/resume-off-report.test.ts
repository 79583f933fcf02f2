/** The audit's account of a registration with `resume: false` (issue 15 point 1). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resumeOffReport } from '../../src/integrity/resume-off-report.ts';

const createdAt = '2026-12-06T22:00:00.000Z';

test('resume: false names, per partition, the offsets written again or not copied, and when', () => {
  const report = resumeOffReport({
    resume: false,
    createdAt,
    starts: [
      { partition: 0, startOffset: '0', resumed: false, commitRecordsEnd: '200' },
      { partition: 1, startOffset: '350', resumed: false, commitRecordsEnd: '200' },
      { partition: 2, startOffset: '200', resumed: false, commitRecordsEnd: '200' },
      { partition: 3, startOffset: '0', resumed: false },
    ],
  });
  assert.equal(report?.registeredAt, createdAt);
  assert.deepEqual(
    report?.partitions.map((p) => [p.partition, p.commitRecordsEnd, p.detail]),
    [
      [0, '200', 'offsets [0, 200) written again (the commit records already held them)'],
      [1, '200', 'offsets [200, 350) not copied (after the commit records, before the start)'],
      [2, '200', 'started where the commit records end: nothing written twice or skipped'],
      [3, null, 'no commit records of this topic id were found: nothing written twice or skipped'],
    ],
  );
  assert.deepEqual(
    resumeOffReport(
      { resume: false, createdAt, starts: [{ partition: 0, startOffset: '0', resumed: false }] },
      5,
    )?.partitions,
    [],
    'an audit of another partition lists none',
  );
});

test('a registration that resumed, or a record older than resume, reports nothing', () => {
  const starts = [{ partition: 0, startOffset: '200', resumed: true }];
  assert.equal(resumeOffReport({ resume: true, createdAt, starts }), null);
  assert.equal(resumeOffReport({ createdAt }), null);
});
