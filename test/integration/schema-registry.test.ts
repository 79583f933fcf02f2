/**
 * `format: "avro"` with `schema: { source: "registry" }` against the real stack: Avro records
 * produced in the Confluent wire format with schemas registered in the stack's Schema Registry
 * (Apicurio, its Confluent-compatible API) land as Avro container files that fastavro reads
 * back as a user would: every produced record exactly once with its values and Kafka's fields
 * (partition, offset, timestamp, key, headers, event time), one object per writer schema when
 * the schema evolves inside a range, and a writer schema's named types of other subjects
 * (references) inlined in the file's schema. A record whose schema id the registry
 * does not have fails its range with a clear error (no rejected-records objects yet); a
 * registry that cannot be reached makes the range retry, and it lands once the registry is back.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { AVRO_ADDR, AVRO_ORDER, uniqueName } from '@sluice/test-kit';
import { apiClient } from '../helpers/api.ts';
import { type Api, waitCommitted } from '../helpers/end-check.ts';
import { createTopic, highWatermarks } from '../helpers/kafka.ts';
import { TestCluster, waitFor } from '../helpers/processes.ts';
import { runPython } from '../helpers/python-readers.ts';
import { getBytes, listAll } from '../helpers/s3.ts';
import { registerAvroSchema, registryUrl, wireEncoder } from '../helpers/schema-registry.ts';
import { TcpProxy } from '../helpers/tcp-proxy.ts';
import { topicStack } from '../helpers/topic-stack.ts';

const V1 = {
  type: 'record',
  name: 'Click',
  namespace: 'sluice.test',
  fields: [
    { name: 'seq', type: 'string' },
    { name: 'n', type: 'long' },
    { name: 'page', type: 'string' },
  ],
};
// A safe evolution: a new field with a default (readers of either version read both).
const V2 = { ...V1, fields: [...V1.fields, { name: 'ms', type: ['null', 'double'], default: null }] };

interface ReadFile {
  codec: string;
  schema: { name: string; fields: Array<{ name: string }> };
  records: Array<Record<string, unknown>>;
}

/** Every `.avro` object under `prefix`, read with fastavro from local copies. */
async function readAvroObjects(
  s3: ReturnType<typeof topicStack>['s3'],
  bucket: string,
  prefix: string,
): Promise<Map<string, ReadFile>> {
  const keys = (await listAll(s3, bucket, prefix)).map((o) => o.key).filter((k) => k.endsWith('.avro'));
  const dir = mkdtempSync(join(tmpdir(), 'sluice-avro-'));
  try {
    const files = await Promise.all(
      keys.map(async (key, i) => {
        const file = join(dir, `${i}.avro`);
        writeFileSync(file, await getBytes(s3, bucket, key));
        return file;
      }),
    );
    const read = runPython<ReadFile[]>(
      `
import base64, datetime, json, sys, fastavro
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
def plain(o):
    # timestamp-millis fields are read as datetimes, bytes as bytes: back to ms and base64.
    if isinstance(o, datetime.datetime): return (o - EPOCH) // datetime.timedelta(milliseconds=1)
    if isinstance(o, bytes): return base64.b64encode(o).decode()
    raise TypeError(repr(o))
out = []
for path in sys.argv[1:]:
    with open(path, 'rb') as f:
        r = fastavro.reader(f)
        records = list(r)
        out.append({'codec': r.codec, 'schema': r.writer_schema, 'records': records})
print(json.dumps(out, default=plain))
`,
      files,
    );
    return new Map(keys.map((k, i) => [k, read[i]!]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The first error a range of partition 0 of `topic` shows in the topic's status. */
function firstRangeError(api: Api, topic: string): Promise<string> {
  return waitFor(
    `a range of ${topic} to show an error`,
    async () => {
      const view = await api.get(`/api/v1/topics/${topic}`);
      const ranges = (view.body.partitions as Array<{ ranges: Array<{ error: string | null }> }>)[0]!.ranges;
      return ranges.find((r) => r.error !== null)?.error ?? false;
    },
    120_000,
    500,
  );
}

describe('avro output with writer schemas from the Schema Registry', () => {
  const stack = topicStack('schema-registry');
  const { s3, bucket, api } = stack;
  const url = registryUrl();

  /** Registers `t` as an Avro topic under prefix `avro/` and waits until all it holds is committed. */
  async function landAsAvro(t: Awaited<ReturnType<typeof stack.newTopic>>): Promise<void> {
    const res = await api.post('/api/v1/topics', {
      topic: t.name,
      destination: { bucket, prefix: 'avro' },
      format: 'avro',
      schema: { source: 'registry' },
      flushIntervalMs: 500,
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    await waitCommitted(api, t.name, await highWatermarks(t.admin, t.name));
  }

  test('two schema versions inside a range: one object per schema, every record once as produced', async () => {
    const t = await stack.newTopic('avro-clicks', 2);
    const topic = t.name;
    const id1 = await registerAvroSchema(url, `${topic}-value`, V1);
    const id2 = await registerAvroSchema(url, `${topic}-value`, V2);
    assert.notEqual(id1, id2);
    const enc1 = wireEncoder(id1, V1);
    const enc2 = wireEncoder(id2, V2);
    const produced = new Map<string, Record<string, unknown>>();
    // Recent: the broker deletes records older than its retention (7 days) from the log.
    const T0 = Date.now() - 60_000;
    const messages = (version: 1 | 2, from: number, count: number) =>
      Array.from({ length: count }, (_, i) => {
        const n = from + i;
        const value: Record<string, unknown> = { seq: `r${n}`, n, page: `/p/${n % 7}` };
        if (version === 2) value.ms = n % 3 === 0 ? null : n / 4;
        // Kafka's fields as fastavro reads them (bytes in base64); key k3 goes without a key.
        const key = n % 5 === 3 ? null : `k${n % 5}`;
        const headers = n % 4 === 0 ? { trace: `t${n}` } : undefined;
        produced.set(`r${n}`, {
          ...value,
          __kafka_timestamp: T0 + n,
          __kafka_key: key === null ? null : Buffer.from(key).toString('base64'),
          __kafka_headers: headers ? [{ key: 'trace', value: Buffer.from(`t${n}`).toString('base64') }] : [],
          __sluice_event_time: T0 + n,
        });
        return { key, value: version === 1 ? enc1(value) : enc2(value), timestamp: String(T0 + n), headers };
      });
    await t.producer.send({ topic, messages: messages(1, 0, 60) });
    await t.producer.send({ topic, messages: messages(2, 60, 40) });
    await t.producer.send({ topic, messages: messages(1, 100, 20) });
    const hw = await highWatermarks(t.admin, topic);

    const res = await api.post('/api/v1/topics', {
      topic,
      destination: { bucket, prefix: 'avro' },
      format: 'avro',
      schema: { source: 'registry' },
      partitionBy: { kind: 'kafka-time', granularity: 'hour' },
      flushIntervalMs: 500,
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    // An avro topic's default compression is Avro's deflate codec.
    assert.equal(res.body.compression, 'deflate');
    assert.deepEqual(res.body.schema, { source: 'registry' });
    await waitCommitted(api, topic, hw);

    const files = await readAvroObjects(s3, bucket, `avro/${topic}/`);
    const seen = new Map<string, Record<string, unknown>>();
    const offsets = new Set<string>();
    const kafkaFields = [
      '__kafka_partition',
      '__kafka_offset',
      '__kafka_timestamp',
      '__kafka_key',
      '__kafka_headers',
      '__sluice_event_time',
    ];
    const schemaIdsByPartition = new Map<string, Set<number>>();
    for (const [key, file] of files) {
      const m = /\/[^/]+-(\d+)-\d{20}-\d{20}-s(\d+)\.avro$/.exec(key);
      assert.ok(m, `${key} is named …-{partition}-{start}-{end}-s{schemaId}.avro`);
      const id = Number(m[2]);
      schemaIdsByPartition.set(m[1]!, (schemaIdsByPartition.get(m[1]!) ?? new Set()).add(id));
      assert.equal(file.codec, 'deflate');
      assert.equal(file.schema.name, 'sluice.test.Click');
      assert.deepEqual(
        file.schema.fields.map((f) => f.name),
        [...(id === id2 ? V2 : V1).fields.map((f) => f.name), ...kafkaFields],
        `${key} holds the records of its writer schema ${id}, then Kafka's fields`,
      );
      for (const r of file.records) {
        const { __kafka_partition: partition, __kafka_offset: offset, ...rest } = r;
        assert.ok(!seen.has(r.seq as string), `${r.seq} is in one object only`);
        assert.equal(String(partition), m[1], `${r.seq} names the partition of its object`);
        assert.ok(!offsets.has(`${partition}:${offset}`), `offset ${partition}:${offset} once`);
        offsets.add(`${partition}:${offset}`);
        seen.set(r.seq as string, rest);
      }
    }
    assert.equal(seen.size, produced.size);
    assert.deepEqual(Object.fromEntries(seen), Object.fromEntries(produced));
    // Every offset below the high watermarks, each once.
    const expected = [...hw].flatMap(([p, h]) => Array.from({ length: Number(h) }, (_, o) => `${p}:${o}`));
    assert.deepEqual([...offsets].sort(), expected.sort());
    // Both partitions had records of both versions within their one range: two objects each.
    assert.deepEqual(
      [...schemaIdsByPartition.values()].map((s) => [...s].sort((a, b) => a - b)),
      [[id1, id2].sort((a, b) => a - b), [id1, id2].sort((a, b) => a - b)],
    );
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: [...files.keys()][0]! }));
    assert.equal(head.ContentType, 'application/avro');
    assert.equal(head.ContentEncoding, undefined);
  });

  test('a record whose schema id the registry does not have, and a tombstone, go to the rejected-records object; the partition moves on', async () => {
    const t = await stack.newTopic('avro-unknown-id', 1);
    const topic = t.name;
    const id = await registerAvroSchema(url, `${topic}-value`, V1);
    const good = wireEncoder(id, V1);
    const unknown = wireEncoder(2_000_000_000, V1);
    await t.producer.send({
      topic,
      messages: [
        { value: good({ seq: 'a', n: 1, page: '/' }) },
        { value: unknown({ seq: 'b', n: 2, page: '/' }) },
        { key: 'gone', value: null },
        { value: good({ seq: 'c', n: 3, page: '/' }) },
      ],
    });
    await landAsAvro(t);
    const listed = await listAll(s3, bucket, `avro/${topic}/`);
    const rejectedKeys = listed.filter((o) => o.key.includes('/_sluice/rejected/')).map((o) => o.key);
    assert.equal(rejectedKeys.length, 1, JSON.stringify(rejectedKeys));
    const lines = (await getBytes(s3, bucket, rejectedKeys[0]!))
      .toString('utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { offset: number | string; reason: string });
    assert.deepEqual(
      lines.map((l) => String(l.offset)),
      ['1', '2'],
    );
    assert.match(lines[0]!.reason, /schema id 2000000000 is not in the Schema Registry/);
    assert.match(lines[1]!.reason, /^tombstone/);
    // The others are in the Avro file, read by fastavro.
    const files = await readAvroObjects(s3, bucket, `avro/${topic}/`);
    assert.deepEqual(
      [...files.values()].flatMap((f) => f.records.map((r) => (r as { seq: string }).seq)),
      ['a', 'c'],
    );
  });

  test('a record using a named type of another subject (references) lands in an Avro file that needs no registry to read', async () => {
    const t = await stack.newTopic('avro-refs', 1);
    const topic = t.name;
    await registerAvroSchema(url, `${topic}-addr`, AVRO_ADDR);
    const id = await registerAvroSchema(url, `${topic}-value`, AVRO_ORDER, [
      { name: 'common.Addr', subject: `${topic}-addr`, version: 1 },
    ]);
    const enc = wireEncoder(id, AVRO_ORDER, [AVRO_ADDR]);
    const values = Array.from({ length: 12 }, (_, n) => ({
      id: n,
      ship: { city: `h${n}`, kind: 'HOME' },
      bill: n % 3 === 0 ? null : { city: `w${n}`, kind: 'WORK' },
    }));
    await t.producer.send({ topic, messages: values.map((v) => ({ value: enc(v) })) });
    await landAsAvro(t);
    const files = [...(await readAvroObjects(s3, bucket, `avro/${topic}/`)).values()];
    assert.equal(files.length, 1);
    // The referenced record is written out in the file's schema where it is first used.
    const fields = files[0]!.schema.fields as Array<{ name: string; type: unknown }>;
    assert.deepEqual(fields[1], {
      name: 'ship',
      type: {
        type: 'record',
        name: 'common.Addr',
        fields: [
          { name: 'city', type: 'string' },
          { name: 'kind', type: { type: 'enum', name: 'common.Kind', symbols: ['HOME', 'WORK'] } },
        ],
      },
    });
    assert.deepEqual(
      files[0]!.records.map(({ id, ship, bill }) => ({ id, ship, bill })),
      values,
    );
    assert.equal(
      (await listAll(s3, bucket, `avro/${topic}/`)).filter((o) => o.key.includes('/_sluice/rejected/'))
        .length,
      0,
    );
  });

  test('an unreachable registry makes the range retry; it lands once the registry answers again', async () => {
    const target = new URL(url);
    const proxy = await TcpProxy.start({ host: target.hostname, port: Number(target.port) });
    const cluster = new TestCluster({
      name: 'registry-outage',
      env: { SLUICE_SCHEMA_REGISTRY_URL: `http://${proxy.address}${target.pathname}` },
    });
    after(async () => {
      await cluster.stopAll();
      await proxy.close();
    });
    const master = await cluster.startMaster();
    await cluster.startWorker();
    const outageApi = apiClient(master.url, cluster.token);
    const t = await createTopic(stack.kafka, uniqueName('avro-outage'), 1);
    after(() => t.delete());
    const topic = t.name;
    const id = await registerAvroSchema(url, `${topic}-value`, V1);
    const enc = wireEncoder(id, V1);
    const values = Array.from({ length: 30 }, (_, n) => ({ seq: `o${n}`, n, page: '/outage' }));
    await t.producer.send({ topic, messages: values.map((v) => ({ value: enc(v) })) });
    const hw = await highWatermarks(t.admin, topic);

    proxy.cut();
    const res = await outageApi.post('/api/v1/topics', {
      topic,
      destination: { bucket, prefix: 'outage' },
      format: 'avro',
      compression: 'none',
      schema: { source: 'registry' },
      flushIntervalMs: 500,
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const error = await firstRangeError(outageApi, topic);
    assert.match(error, /SLUICE_ERR_SCHEMA_REGISTRY: cannot reach the Schema Registry/);
    assert.equal(
      (await listAll(s3, bucket, `outage/${topic}/`)).filter((o) => o.key.endsWith('.avro')).length,
      0,
    );

    proxy.restore();
    await waitCommitted(outageApi, topic, hw);
    const files = await readAvroObjects(s3, bucket, `outage/${topic}/`);
    assert.equal(files.size, 1);
    const [file] = [...files.values()];
    assert.equal(file!.codec, 'null');
    assert.deepEqual(
      file!.records.map(({ seq, n, page, __kafka_offset }) => ({ seq, n, page, __kafka_offset })),
      values.map((v, offset) => ({ ...v, __kafka_offset: offset })),
    );
  });
});
