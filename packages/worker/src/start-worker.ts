/**
 * The worker's composition root: config → clients → services → start. `main.ts` calls it for
 * the `sluice-worker` program; tests call it to run a worker in-process.
 *
 * Order matters: the HTTP server first (so probes answer while the rest connects), then the
 * ZooKeeper registration (the leader must see the worker before it takes a range), then the
 * BullMQ worker, behind the {@link OwnFaultGate} that pauses it while a failure of the
 * worker's own (its credentials, an endpoint it cannot reach) is not fixed. Stopping runs the
 * other way: take no more jobs, let jobs in hand finish for a grace period, abort the rest
 * (BullMQ and the leader requeue them), close the ZooKeeper session (the worker's node goes at
 * once), close the clients.
 */
import type { AddressInfo } from 'node:net';
import {
  checkKafkaAccess,
  createLogger,
  createRedis,
  createS3Client,
  errorText,
  type Logger,
  probeDestinationWrite,
  RANGE_QUEUE_NAME,
  type RangeJobData,
  readSecretFile,
  SchemaRegistryClient,
  SLUICE_VERSION,
  type WorkerConfig,
} from '@sluice/shared';
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { createHealthServer, type Readiness } from './health-server.ts';
import { S3ObjectStore } from './object-writer.ts';
import { OwnFaultGate } from './own-fault-gate.ts';
import { createRangeJobHandler, type RangeJobOutcome } from './range-job-handler.ts';
import { RangeProcessor } from './range-processor.ts';
import { createRangeReader, type RangeReader } from './range-reader.ts';
import { WorkerMetrics } from './worker-metrics.ts';
import { registerWorker, type WorkerPresence } from './worker-registration.ts';

export interface StartWorkerOptions {
  /** Root logger. @defaultValue a pino logger at `config.logLevel` */
  logger?: Logger;
  /** Reads ranges instead of the Kafka reader (tests). The caller closes it. */
  reader?: RangeReader;
  /** How long `stop()` lets jobs in hand finish before aborting them. @defaultValue `config.shutdownGraceMs` */
  shutdownGraceMs?: number;
}

export interface RunningWorker {
  readonly id: string;
  /** `http://host:port` of the health and metrics server. */
  readonly httpAddress: string;
  /** Stops taking jobs, finishes or aborts the ones in hand, deregisters, closes clients. Idempotent. */
  stop(): Promise<void>;
}

export async function startWorker(
  config: Readonly<WorkerConfig>,
  opts: StartWorkerOptions = {},
): Promise<RunningWorker> {
  const log = opts.logger ?? createLogger('sluice-worker', config.logLevel, { worker: config.id });
  const metrics = new WorkerMetrics();
  const grace = opts.shutdownGraceMs ?? config.shutdownGraceMs;

  let presence: WorkerPresence | null = null;
  let redis: Redis | null = null;
  let bull: Worker<unknown, RangeJobOutcome> | null = null;
  let ownReader: RangeReader | null = null;
  let stopping: Promise<void> | null = null;
  let gate: OwnFaultGate | null = null;

  const readiness = (): Readiness => {
    const reasons: string[] = [];
    if (stopping) reasons.push('shutting down');
    if (!presence?.alive) reasons.push('zookeeper session is not alive');
    if (redis?.status !== 'ready') reasons.push(`redis connection is ${redis?.status ?? 'not open'}`);
    // A paused BullMQ worker does not count as running: name why it is paused first.
    if (gate?.notReadyReason) reasons.push(`taking no jobs until a probe passes: ${gate.notReadyReason}`);
    else if (bull?.isPaused()) reasons.push('queue worker is paused (zookeeper session lost)');
    else if (!bull?.isRunning()) reasons.push('queue worker is not running');
    return { ready: reasons.length === 0, reasons };
  };

  const http = createHealthServer({ metrics, readiness, log });
  const s3 = createS3Client(config);

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      log.info('stopping');
      await gate?.stop();
      if (bull) {
        const closing = bull.close();
        const timer = setTimeout(() => {
          log.warn({ graceMs: grace }, 'grace period over; aborting ranges in hand');
          bull?.cancelAllJobs('worker shutting down');
        }, grace);
        try {
          await closing;
        } catch (err) {
          log.warn({ err: errorText(err) }, 'queue worker close failed');
        } finally {
          clearTimeout(timer);
        }
      }
      await presence?.stop().catch((err) => log.warn({ err: errorText(err) }, 'zookeeper close failed'));
      await ownReader?.close().catch((err) => log.warn({ err: errorText(err) }, 'kafka close failed'));
      s3.destroy();
      if (redis) await redis.quit().catch(() => redis?.disconnect());
      await http.close();
      log.info('stopped');
    })();
    return stopping;
  };

  try {
    await http.listen({ host: config.httpHost, port: config.httpPort });
    const addr = http.server.address() as AddressInfo;
    const host =
      config.httpHost === '0.0.0.0' || config.httpHost === '::'
        ? config.host
        : addr.address.replace(/^::ffff:/, '');
    const httpAddress = `http://${host.includes(':') ? `[${host}]` : host}:${addr.port}`;

    const store = new S3ObjectStore(
      s3,
      {
        partSizeBytes: config.partSizeBytes,
        uploadQueueSize: config.uploadQueueSize,
        conditionalWrites: config.s3.conditionalWrites,
      },
      log,
    );
    if (!opts.reader) {
      // Bad TLS or SASL settings stop the start here, saying which; an unreachable Kafka does not.
      const unreachable = await checkKafkaAccess(config);
      if (unreachable) log.warn({ err: unreachable }, 'kafka did not answer at start; starting anyway');
      ownReader = createRangeReader(config, log);
    }
    const reader = opts.reader ?? ownReader!;

    const registered = await registerWorker({
      connect: config.zookeeper,
      sessionTimeoutMs: config.zkSessionTimeoutMs,
      digest: config.zookeeperDigest,
      log,
      registration: {
        v: 1,
        id: config.id,
        host: config.host,
        pid: process.pid,
        version: SLUICE_VERSION,
        concurrency: config.concurrency,
        httpAddress,
        startedAt: new Date().toISOString(),
      },
    });
    presence = registered;

    const processor = new RangeProcessor({
      zk: () => registered.session,
      store,
      reader,
      settings: {
        workerId: config.id,
        progressIntervalMs: config.progressIntervalMs,
        parquetRowGroupBytes: config.parquetRowGroupBytes,
        verifyOnRetry: config.verifyOnRetry,
      },
      log,
      metrics,
      schemas: schemaRegistryOf(config),
    });

    // Failures of this worker's own stop it taking jobs until a probe passes (issue 15, point 3).
    const ownFaults = new OwnFaultGate({
      pause: async () => {
        await bull?.pause(true);
      },
      resume: async () => {
        if (!stopping && registered.alive && bull?.isPaused()) await bull.resume();
      },
      publish: (ready, reason) => registered.setReadiness(ready, reason),
      maxDelayMs: config.probeMaxIntervalMs,
      log,
    });
    gate = ownFaults;
    const probe = (service: 's3' | 'kafka', job: RangeJobData) =>
      service === 's3'
        ? () =>
            probeDestinationWrite(s3, job.topic, job.output, {
              conditionalWrites: config.s3.conditionalWrites,
              writer: config.id,
            })
        : async () => {
            await reader.probe?.(job.topic);
          };

    redis = createRedis(config, 'worker');
    const worker = new Worker<unknown, RangeJobOutcome>(
      RANGE_QUEUE_NAME,
      createRangeJobHandler({ processor, log, metrics, ownFaults: { gate: ownFaults, probe } }),
      {
        connection: redis,
        prefix: config.queuePrefix,
        concurrency: config.concurrency,
        autorun: true,
        // Kept on each job it takes (`processedBy`): the leader requeues the range of a job
        // that a worker which left had taken but not started.
        name: config.id,
      },
    );
    bull = worker;
    worker.on('error', (err) => log.error({ err: errorText(err) }, 'queue error'));

    // Invariant 7: without a session the leader is giving our ranges away; stop at once.
    registered.on('lost', () => {
      worker.cancelAllJobs('zookeeper session lost');
      worker.pause(true).catch((err) => log.warn({ err: errorText(err) }, 'queue pause failed'));
    });
    registered.on('restored', () => {
      // Still closed for a fault of its own: the gate resumes once its probe passes.
      if (!stopping && worker.isPaused() && ownFaults.notReadyReason === null) {
        worker.resume().catch((err) => log.warn({ err: errorText(err) }, 'queue resume failed'));
      }
    });

    log.info(
      { httpAddress, queuePrefix: config.queuePrefix, concurrency: config.concurrency },
      'worker started',
    );
    return { id: config.id, httpAddress, stop };
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
}

/** The Schema Registry's client, when SLUICE_SCHEMA_REGISTRY_URL is set (the config checked its CA file). */
function schemaRegistryOf(config: WorkerConfig): SchemaRegistryClient | undefined {
  const r = config.schemaRegistry;
  if (!r.url) return undefined;
  const ca = r.caFile ? readSecretFile(r.caFile) : undefined;
  return new SchemaRegistryClient({
    url: r.url,
    ...(r.username ? { username: r.username, password: r.password } : {}),
    ...(ca && 'value' in ca ? { ca: ca.value } : {}),
  });
}
