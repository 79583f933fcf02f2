import assert from 'node:assert/strict';
import { test } from 'node:test';
import { destinationsOf, ErrorCodes, isSluiceError, TOPIC_DEFAULTS, ValidationError } from '@sluice/shared';
import {
  deletingTopicRecord,
  newTopicRecord,
  patchedTopicRecord,
  topicConfigFromBody,
} from '../../src/topics/topic-request.ts';

const NOW = new Date('2026-01-02T03:04:05.000Z');
const LATER = new Date('2026-01-03T00:00:00.000Z');

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ValidationError, `expected a ValidationError, got ${String(err)}`);
    return err.problems.map((p) => `${p.path}: ${p.message}`);
  }
  assert.fail('expected a ValidationError');
}

test('a minimal registration takes every default', () => {
  const cfg = topicConfigFromBody({ topic: 'orders', destination: { bucket: 'lake' } });
  assert.deepEqual(cfg, { ...TOPIC_DEFAULTS, topic: 'orders', destination: { bucket: 'lake', prefix: '' } });
});

test('a trailing slash of the prefix is dropped', () => {
  const cfg = topicConfigFromBody({
    topic: 'orders',
    destination: { bucket: 'lake', prefix: 'raw/orders/' },
  });
  assert.equal(cfg.destination.prefix, 'raw/orders');
});

test('every semantic problem is reported at once', () => {
  const problems = problemsOf(() =>
    topicConfigFromBody({
      topic: 'bad topic',
      destination: { bucket: 'Bad_Bucket', prefix: '/abs/../x' },
      kmsKeyId: 'key-1',
      partitionBy: { kind: 'event-time', field: 'a..b', granularity: 'hour' },
    }),
  );
  assert.equal(problems.length, 5, problems.join('\n'));
  assert.match(problems.join('\n'), /^topic: may contain only/m);
  assert.match(problems.join('\n'), /^destination\.bucket: may contain only lowercase/m);
  assert.match(problems.join('\n'), /^destination\.prefix: must not start with "\/"/m);
  assert.match(problems.join('\n'), /^partitionBy\.field: must be a dotted path/m);
  assert.match(problems.join('\n'), /^kmsKeyId: is only allowed with serverSideEncryption "aws:kms"/m);
});

test('".." in a prefix is refused', () => {
  const problems = problemsOf(() =>
    topicConfigFromBody({ topic: 't', destination: { bucket: 'lake', prefix: 'a/../b' } }),
  );
  assert.deepEqual(problems, ['destination.prefix: must not contain a ".." segment']);
});

test('a new record is active, not paused, and carries the topic id', () => {
  const rec = newTopicRecord(
    topicConfigFromBody({ topic: 't', destination: { bucket: 'lake' } }),
    'id-1',
    NOW,
  );
  assert.equal(rec.topicId, 'id-1');
  assert.equal(rec.paused, false);
  assert.equal(rec.state, 'active');
  assert.equal(rec.error, null);
  assert.equal(rec.createdAt, NOW.toISOString());
  assert.equal(rec.updatedAt, NOW.toISOString());
});

test('a patch changes policy and pause, keeps what it may not change', () => {
  const rec = newTopicRecord(
    topicConfigFromBody({ topic: 't', destination: { bucket: 'lake' } }),
    'id-1',
    NOW,
  );
  const next = patchedTopicRecord(
    rec,
    { paused: true, compression: 'zstd', destination: { bucket: 'other-lake', prefix: 'p/' } },
    LATER,
  );
  assert.equal(next.paused, true);
  assert.equal(next.compression, 'zstd');
  assert.deepEqual(next.destination, { bucket: 'other-lake', prefix: 'p' });
  assert.equal(next.topic, 't');
  assert.equal(next.topicId, 'id-1');
  assert.equal(next.startFrom, rec.startFrom);
  assert.equal(next.createdAt, NOW.toISOString());
  assert.equal(next.updatedAt, LATER.toISOString());
  // Resuming keeps the rest.
  assert.equal(patchedTopicRecord(next, { paused: false }, LATER).compression, 'zstd');
});

test('a patch is checked as a whole: kmsKeyId needs aws:kms in the resulting config', () => {
  const rec = newTopicRecord(
    topicConfigFromBody({
      topic: 't',
      destination: { bucket: 'lake' },
      serverSideEncryption: 'aws:kms',
      kmsKeyId: 'k',
    }),
    'id',
    NOW,
  );
  assert.deepEqual(
    problemsOf(() => patchedTopicRecord(rec, { serverSideEncryption: 'AES256' }, LATER)),
    ['kmsKeyId: is only allowed with serverSideEncryption "aws:kms"'],
  );
  assert.equal(
    patchedTopicRecord(rec, { serverSideEncryption: 'AES256', kmsKeyId: '' }, LATER).serverSideEncryption,
    'AES256',
  );
});

test('a topic being deleted takes no changes; deleting twice changes nothing', () => {
  const rec = newTopicRecord(topicConfigFromBody({ topic: 't', destination: { bucket: 'lake' } }), 'id', NOW);
  const deleting = deletingTopicRecord(rec, LATER);
  assert.equal(deleting.state, 'deleting');
  assert.equal(deletingTopicRecord(deleting, new Date()), deleting);
  assert.throws(
    () => patchedTopicRecord(deleting, { paused: true }, LATER),
    (err) => isSluiceError(err, ErrorCodes.TOPIC_STATE) && /being deleted/.test(err.message),
  );
});

test('a forced DELETE marks the topic forced, also when it is already deleting; forcing twice changes nothing', () => {
  const rec = newTopicRecord(topicConfigFromBody({ topic: 't', destination: { bucket: 'lake' } }), 'id', NOW);
  assert.equal(deletingTopicRecord(rec, LATER).forcedAt, undefined, 'a plain DELETE is not forced');
  const stuck = deletingTopicRecord(rec, LATER);
  const forced = deletingTopicRecord(stuck, NOW, true);
  assert.equal(forced.state, 'deleting');
  assert.equal(forced.forcedAt, NOW.toISOString(), 'a stuck deletion can be forced');
  assert.equal(deletingTopicRecord(forced, LATER, true), forced, 'the first request names the record');
  assert.equal(deletingTopicRecord(forced, LATER), forced, 'a plain DELETE does not undo the force');
});

test('a destination change appends the destination left to pastDestinations; other changes do not', () => {
  const rec = newTopicRecord(
    topicConfigFromBody({ topic: 't', destination: { bucket: 'lake', prefix: 'a' } }),
    'id-1',
    NOW,
  );
  assert.equal(patchedTopicRecord(rec, { compression: 'zstd' }, LATER).pastDestinations, undefined);
  const moved = patchedTopicRecord(rec, { destination: { bucket: 'lake-2' } }, LATER);
  assert.deepEqual(moved.pastDestinations, [
    { bucket: 'lake', prefix: 'a', since: NOW.toISOString(), until: LATER.toISOString() },
  ]);
  const END = new Date('2026-01-04T00:00:00.000Z');
  const back = patchedTopicRecord(moved, { destination: { bucket: 'lake', prefix: 'a' } }, END);
  assert.deepEqual(back.pastDestinations, [
    { bucket: 'lake', prefix: 'a', since: NOW.toISOString(), until: LATER.toISOString() },
    { bucket: 'lake-2', prefix: '', since: LATER.toISOString(), until: END.toISOString() },
  ]);
  assert.deepEqual(destinationsOf(back), [
    { bucket: 'lake', prefix: 'a' },
    { bucket: 'lake-2', prefix: '' },
  ]);
  assert.deepEqual(patchedTopicRecord(back, { paused: true }, END).pastDestinations, back.pastDestinations);
});

test('mirrorGroup: a name like a topic name, null for none; a bad one names the field and the rule', () => {
  assert.equal(
    topicConfigFromBody({ topic: 'orders', destination: { bucket: 'lake' }, mirrorGroup: 'lag.orders-v2' })
      .mirrorGroup,
    'lag.orders-v2',
  );
  assert.equal(
    topicConfigFromBody({ topic: 'orders', destination: { bucket: 'lake' }, mirrorGroup: null }).mirrorGroup,
    null,
  );
  assert.deepEqual(
    problemsOf(() =>
      topicConfigFromBody({ topic: 'orders', destination: { bucket: 'lake' }, mirrorGroup: 'my group' }),
    ),
    ['mirrorGroup: may contain only letters, digits, ".", "_" and "-" (or be null for no mirror group)'],
  );
  const record = newTopicRecord(
    topicConfigFromBody({ topic: 'orders', destination: { bucket: 'lake' } }),
    'id',
    NOW,
  );
  assert.equal(patchedTopicRecord(record, { mirrorGroup: null }, LATER).mirrorGroup, null);
});

test('parquet takes registry schemas (any schema id: nothing is looked up), with keys decoded too', () => {
  const base = { topic: 'clicks', destination: { bucket: 'lake' }, format: 'parquet' as const };
  const cfg = topicConfigFromBody({ ...base, schema: { source: 'registry' } });
  assert.deepEqual(cfg.schema, { source: 'registry' });
  assert.equal(cfg.compression, 'zstd');
  const keyed = topicConfigFromBody({ ...base, schema: { source: 'registry', key: true } });
  assert.deepEqual(keyed.schema, { source: 'registry', key: true });
});

test('avro: needs schema { source: "registry" }; gzip is stored as deflate; deflate and schema belong to avro', () => {
  const base = { topic: 'clicks', destination: { bucket: 'lake' } };
  const cfg = topicConfigFromBody({ ...base, format: 'avro', schema: { source: 'registry' } });
  assert.equal(cfg.compression, 'deflate');
  assert.deepEqual(cfg.schema, { source: 'registry' });
  assert.equal(
    topicConfigFromBody({ ...base, format: 'avro', compression: 'zstd', schema: { source: 'registry' } })
      .compression,
    'zstd',
  );
  assert.deepEqual(
    problemsOf(() => topicConfigFromBody({ ...base, format: 'avro' })),
    [
      'schema: is required with format "avro": set schema to {"source": "registry"} (values in the Confluent wire format, writer schemas from SLUICE_SCHEMA_REGISTRY_URL)',
    ],
  );
  assert.match(
    problemsOf(() =>
      topicConfigFromBody({ ...base, format: 'avro', schema: { source: 'registry', key: true } }),
    )[0]!,
    /^schema\.key: must not be true with format "avro"/,
  );
  assert.deepEqual(
    problemsOf(() =>
      topicConfigFromBody({ ...base, compression: 'deflate', schema: { source: 'registry' } }),
    ),
    [
      'compression: deflate is the codec of Avro files only; use gzip, zstd or none, or format "avro"',
      'schema: has no effect with format "jsonl" (it writes records as they are): leave it out, or use format "avro" (registry) or "parquet" (inline)',
    ],
  );
  // A PATCH to avro is checked as a whole too.
  const rec = newTopicRecord(topicConfigFromBody(base), 'id-1', NOW);
  assert.equal(
    patchedTopicRecord(rec, { format: 'avro', schema: { source: 'registry' } }, LATER).compression,
    'deflate',
  );
  assert.match(
    problemsOf(() => patchedTopicRecord(rec, { format: 'avro' }, LATER))[0]!,
    /^schema: is required/,
  );
});

test('compressionLevel: per codec, absent for the default; a PATCH changing the codec without a level drops it', () => {
  const base = { topic: 'orders', destination: { bucket: 'lake' } };
  const zstd1 = topicConfigFromBody({ ...base, compression: 'zstd', compressionLevel: 1 });
  assert.equal(zstd1.compressionLevel, 1);
  assert.equal('compressionLevel' in topicConfigFromBody(base), false);
  assert.deepEqual(
    problemsOf(() => topicConfigFromBody({ ...base, compression: 'gzip', compressionLevel: 10 })),
    ['compressionLevel: must be an integer from 1 to 9 for gzip (default 6), got 10'],
  );
  assert.deepEqual(
    problemsOf(() => topicConfigFromBody({ ...base, compression: 'zstd', compressionLevel: 22 })),
    ['compressionLevel: must be an integer from 1 to 19 for zstd (default 3), got 22'],
  );
  assert.deepEqual(
    problemsOf(() => topicConfigFromBody({ ...base, compression: 'none', compressionLevel: 3 })),
    ['compressionLevel: is only allowed with compression "gzip" or "zstd"; remove it, or choose a codec'],
  );
  const record = newTopicRecord(zstd1, 'id', NOW);
  assert.equal(patchedTopicRecord(record, { maxRangeMessages: 5_000 }, LATER).compressionLevel, 1);
  assert.equal(patchedTopicRecord(record, { compressionLevel: 7 }, LATER).compressionLevel, 7);
  const toGzip = patchedTopicRecord(record, { compression: 'gzip' }, LATER);
  assert.equal('compressionLevel' in toGzip, false, 'back to the gzip default');
  assert.equal('compressionLevel' in patchedTopicRecord(record, { compression: 'none' }, LATER), false);
  assert.equal(
    patchedTopicRecord(record, { compression: 'gzip', compressionLevel: 9 }, LATER).compressionLevel,
    9,
  );
  assert.deepEqual(
    problemsOf(() => patchedTopicRecord(record, { compressionLevel: 20 }, LATER)),
    ['compressionLevel: must be an integer from 1 to 19 for zstd (default 3), got 20'],
  );
});

test('parquet schema changes: columns may be added or removed, a kept column may not change type; infer is for registrations', () => {
  const base = {
    topic: 'clicks',
    destination: { bucket: 'lake' },
    format: 'parquet' as const,
    schema: {
      source: 'inline' as const,
      fields: [
        { name: 'id', type: 'int64' },
        { name: 'at', type: 'timestamp', unit: 'us' },
        { name: 'geo', type: 'struct', fields: [{ name: 'lat', type: 'double' }] },
      ],
      unknownFields: 'json' as const,
    },
  };
  const rec = newTopicRecord(topicConfigFromBody(base), 'id-1', NOW);
  const added = patchedTopicRecord(
    rec,
    {
      schema: {
        ...base.schema,
        fields: [...base.schema.fields.slice(1), { name: 'country', type: 'string' }],
      },
    },
    LATER,
  );
  assert.deepEqual(added.schema?.source === 'inline' && added.schema.fields.map((f) => f.name), [
    'at',
    'geo',
    'country',
  ]);
  const changed = {
    ...base.schema,
    fields: [
      { name: 'id', type: 'string' },
      { name: 'at', type: 'timestamp', unit: 'ms' },
      {
        name: 'geo',
        type: 'struct',
        fields: [
          { name: 'lat', type: 'string' },
          { name: 'lon', type: 'double' },
        ],
      },
    ],
  };
  assert.throws(
    () => patchedTopicRecord(rec, { schema: changed }, LATER),
    (err: unknown) => isSluiceError(err) && err.code === ErrorCodes.TOPIC_STATE,
  );
  assert.deepEqual(
    problemsOf(() => patchedTopicRecord(rec, { schema: changed }, LATER)).map((p) => p.split(':')[0]),
    ['schema.fields[0].type', 'schema.fields[1].type', 'schema.fields[2].fields[0].type'],
  );
  assert.match(
    problemsOf(() => patchedTopicRecord(rec, { schema: changed }, LATER))[2]!,
    /changes column "geo\.lat" from double to string: .*add the new type as a new column under another name/,
  );
  assert.match(
    problemsOf(() => patchedTopicRecord(rec, { schema: { source: 'infer' } }, LATER))[0]!,
    /^schema\.source: "infer" is for a registration .* PATCH \{ "schema": \{ "source": "inline"/,
  );
  assert.deepEqual(
    problemsOf(() => topicConfigFromBody({ ...base, schema: { ...base.schema, sample: 10 } })),
    ['schema.sample: is only for schema.source "infer"'],
  );
});
