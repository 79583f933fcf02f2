/**
 * The benchmark's data: one Kafka topic per record size, filled once with Kafka's own
 * ProducerPerformance from a payload file of JSON events (payloads.ts), and described by
 * what a reader of it must get: partitions, end offsets, records, and key + value bytes.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createKafkaAdmin, type KafkaAdmin } from '@sluice/shared';
import { Kafka, logLevel } from 'kafkajs';
import { registerAvroSchema, wireEncoder } from '../../test/helpers/schema-registry.ts';
import { avroRecordOf, meanLineBytes, PAYLOAD_AVRO_SCHEMA, payloadFile } from './payloads.ts';
import type { BenchEnv } from './stack.ts';

export interface DatasetSpec {
  /** Short label: `1KiB`, `100B`. */
  label: string;
  topic: string;
  partitions: number;
  records: number;
  /** Target value size. */
  payloadBytes: number;
  /** Offsets per range, as Sluice is told to cut (`maxRangeMessages`). */
  rangeMessages: number;
  /**
   * Who produces and in what record batches: Kafka's ProducerPerformance with `batch.size`
   * (linger 20 ms), or kafkajs sending `batchBytes` of records to one partition per request.
   * @defaultValue ProducerPerformance, 512 KiB
   */
  producer?: { tool: 'perf' | 'kafkajs'; batchBytes: number };
  /**
   * `avro`: the same events as Avro values in the Confluent wire format, their schema
   * (PAYLOAD_AVRO_SCHEMA) registered in the stack's Schema Registry under `<topic>-value`;
   * produced with kafkajs (ProducerPerformance sends text lines only).
   * @defaultValue the JSON lines themselves
   */
  encoding?: 'avro';
}

export interface PartitionEnd {
  partition: number;
  end: bigint;
}

export interface Dataset extends DatasetSpec {
  topicId: string;
  ends: PartitionEnd[];
  /** Mean value bytes of the payload file (records have no key). */
  meanValueBytes: number;
  /** Key + value bytes over all records: what "MB" means in every figure (10^6 bytes). */
  bytes: number;
  producedWith: string;
  /** Seconds ProducerPerformance took, or null when the topic was reused. */
  produceSeconds: number | null;
}

/** The ranges Sluice plans for a full backlog: `rangeMessages` offsets each, per partition. */
export function rangesOf(
  d: Pick<Dataset, 'topic' | 'topicId' | 'ends' | 'rangeMessages'>,
): Array<{ topic: string; topicId: string; partition: number; start: bigint; end: bigint }> {
  const out = [];
  for (const { partition, end } of d.ends) {
    for (let s = 0n; s < end; s += BigInt(d.rangeMessages)) {
      const e = s + BigInt(d.rangeMessages) < end ? s + BigInt(d.rangeMessages) : end;
      out.push({ topic: d.topic, topicId: d.topicId, partition, start: s, end: e });
    }
  }
  return out;
}

function admin(env: BenchEnv): KafkaAdmin {
  return createKafkaAdmin({
    kafkaBrokers: env.brokers,
    kafkaClientId: 'sluice-bench',
    kafkaSsl: false,
    kafkaSasl: null,
  });
}

/** End offsets and topic id, or null when the topic does not exist. */
async function describe(
  env: BenchEnv,
  topic: string,
): Promise<{ topicId: string; ends: PartitionEnd[] } | null> {
  const a = admin(env);
  try {
    const md = (await a.topicMetadata([topic])).get(topic);
    if (!md) return null;
    const offsets = await a.offsets(topic, md.partitions);
    return {
      topicId: md.topicId,
      ends: offsets.map((o) => ({ partition: o.partition, end: o.lastStable })),
    };
  } finally {
    await a.close();
  }
}

function kafkaClient(env: BenchEnv): Kafka {
  return new Kafka({ clientId: 'sluice-bench', brokers: env.brokers, logLevel: logLevel.NOTHING });
}

/**
 * The topic, filled with `records` records unless it already holds exactly that many (a
 * topic kept by `--keep-data` is reused; one with another count is made again).
 */
export async function ensureDataset(
  env: BenchEnv,
  spec: DatasetSpec,
  log: (s: string) => void,
): Promise<Dataset> {
  const file = payloadFile(spec.payloadBytes, 20_000);
  const values = spec.encoding === 'avro' ? await avroValues(env, spec.topic, file) : null;
  const meanValueBytes = values
    ? values.reduce((n, v) => n + v.length, 0) / values.length
    : meanLineBytes(file);
  const existing = await describe(env, spec.topic);
  const total = (ends: PartitionEnd[]) => ends.reduce((n, e) => n + Number(e.end), 0);
  let produceSeconds: number | null = null;
  const intact =
    existing !== null &&
    existing.ends.length === spec.partitions &&
    total(existing.ends) === spec.records &&
    (values === null || (await sameSchemaId(env, spec.topic, values[0] as Buffer, log)));
  if (intact) {
    log(`reusing topic ${spec.topic} (${spec.records} records)`);
  } else {
    const kafka = kafkaClient(env);
    const ka = kafka.admin();
    await ka.connect();
    try {
      if (existing) {
        await ka.deleteTopics({ topics: [spec.topic] });
        await new Promise((r) => setTimeout(r, 2_000));
      }
      await ka.createTopics({
        topics: [{ topic: spec.topic, numPartitions: spec.partitions, replicationFactor: 1 }],
        waitForLeaders: true,
      });
    } finally {
      await ka.disconnect();
    }
    const dir = join(env.scratchDir, 'payloads');
    mkdirSync(dir, { recursive: true });
    const path = join(dir, `${spec.label}.txt`);
    writeFileSync(path, file);
    const producer = spec.producer ?? { tool: values ? 'kafkajs' : 'perf', batchBytes: 524_288 };
    log(
      `producing ${spec.records} records of ~${spec.payloadBytes} B into ${spec.topic} (${producedWith(producer)})`,
    );
    const t0 = performance.now();
    if (producer.tool === 'kafkajs') {
      await produceWithKafkajs(
        env,
        spec,
        values ?? file.split('\n').filter((l) => l.length > 0),
        Math.max(1, Math.round(producer.batchBytes / meanValueBytes)),
      );
    } else {
      const res = spawnSync(
        'java',
        [
          '-Xmx768m',
          '-cp',
          `${env.kafkaHome}/libs/*`,
          'org.apache.kafka.tools.ProducerPerformance',
          '--topic',
          spec.topic,
          '--num-records',
          String(spec.records),
          '--payload-file',
          path,
          '--throughput',
          '-1',
          '--producer-props',
          `bootstrap.servers=${env.brokers.join(',')}`,
          'acks=1',
          'linger.ms=20',
          `batch.size=${producer.batchBytes}`,
          'compression.type=none',
        ],
        { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
      );
      if (res.status !== 0) {
        throw new Error(
          `ProducerPerformance failed (${res.status}): ${(res.stderr || res.stdout).slice(-2000)}`,
        );
      }
    }
    produceSeconds = (performance.now() - t0) / 1000;
  }
  const d = await describe(env, spec.topic);
  if (!d || total(d.ends) !== spec.records) {
    throw new Error(`topic ${spec.topic} holds ${d ? total(d.ends) : 0} records, expected ${spec.records}`);
  }
  return {
    ...spec,
    topicId: d.topicId,
    ends: d.ends,
    meanValueBytes,
    // Estimated here from the payload mix; replaced by the raw read's exact count.
    bytes: Math.round(meanValueBytes * spec.records),
    producedWith: `${producedWith(spec.producer ?? { tool: values ? 'kafkajs' : 'perf', batchBytes: 524_288 })}, acks=1, no producer compression${values ? ', Avro values in the Confluent wire format' : ''}`,
    produceSeconds,
  };
}

function producedWith(p: NonNullable<DatasetSpec['producer']>): string {
  const kib = `${Math.round(p.batchBytes / 1024)} KiB`;
  return p.tool === 'kafkajs'
    ? `kafkajs, ${kib} of records per request to one partition`
    : `Kafka ProducerPerformance, linger.ms=20, batch.size=${kib}`;
}

/**
 * kafkajs in record batches of `perBatch` records: each request carries records for one
 * partition only (keyless records would otherwise be spread over every partition and make
 * batches a sixth of the size), one request in flight per partition.
 */
async function produceWithKafkajs(
  env: BenchEnv,
  spec: DatasetSpec,
  lines: ReadonlyArray<string | Buffer>,
  perBatch: number,
): Promise<void> {
  const producer = kafkaClient(env).producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    let next = 0;
    const lane = async (partition: number) => {
      for (;;) {
        const from = next;
        if (from >= spec.records) return;
        next = Math.min(spec.records, from + perBatch);
        const messages = [];
        for (let i = from; i < next; i++)
          messages.push({ value: lines[i % lines.length] as string | Buffer, partition });
        await producer.send({ topic: spec.topic, acks: 1, messages });
      }
    };
    await Promise.all(Array.from({ length: spec.partitions }, (_, p) => lane(p)));
  } finally {
    await producer.disconnect();
  }
}

/**
 * The payload file's events as wire-format Avro values, under the schema id the stack's
 * registry gives PAYLOAD_AVRO_SCHEMA (registering it again returns the same id).
 */
async function avroValues(env: BenchEnv, topic: string, file: string): Promise<Buffer[]> {
  const url = env.stack.SLUICE_SCHEMA_REGISTRY_URL;
  if (!url) {
    throw new Error(
      'the stack names no SLUICE_SCHEMA_REGISTRY_URL: the Avro runs need its Schema Registry; run npm run stack:up',
    );
  }
  const id = await registerAvroSchema(url, `${topic}-value`, PAYLOAD_AVRO_SCHEMA);
  const encode = wireEncoder(id, PAYLOAD_AVRO_SCHEMA);
  return file.split('\n').map((line) => encode(avroRecordOf(line)));
}

/**
 * Whether a kept Avro topic's records name the schema id the registry gives now. The stack's
 * registry keeps its schemas in memory: after a restart it numbers them anew, and a topic
 * produced before would be read as records of an unknown schema (every one rejected).
 */
async function sameSchemaId(
  env: BenchEnv,
  topic: string,
  now: Buffer,
  log: (s: string) => void,
): Promise<boolean> {
  const consumer = kafkaClient(env).consumer({ groupId: `sluice-bench-peek-${process.pid}-${Date.now()}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    const first = await new Promise<Buffer | null>((resolve, reject) => {
      const timer = setTimeout(() => resolve(null), 30_000);
      consumer
        .run({
          eachMessage: async ({ message }) => {
            clearTimeout(timer);
            resolve(message.value);
          },
        })
        .catch(reject);
    });
    const same = first?.subarray(0, 5).equals(now.subarray(0, 5)) === true;
    if (!same) {
      log(
        `  ${topic}: its records name schema id ${first?.readInt32BE(1) ?? '(none read)'}, the registry's is now ${now.readInt32BE(1)} (its schemas are in memory: restarted?); producing it again`,
      );
    }
    return same;
  } finally {
    await consumer.disconnect();
  }
}

export async function deleteDataset(env: BenchEnv, topic: string): Promise<void> {
  const ka = kafkaClient(env).admin();
  await ka.connect();
  try {
    await ka.deleteTopics({ topics: [topic] });
  } finally {
    await ka.disconnect();
  }
}
