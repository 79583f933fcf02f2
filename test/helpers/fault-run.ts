/**
 * The setup every fault test repeated: a cluster of master and worker processes, a bucket
 * of its own, and on demand a ZooKeeper view, S3 fault proxies and Kafka topics; all of it
 * removed when the test file ends, in the order that leaves nothing behind (processes first,
 * the bucket last). Building a {@link FaultRun} at the top of a test file registers its
 * `before` (the bucket) and `after` (the cleanup) hooks.
 */
import { after, before } from 'node:test';
import { loadStackEnv } from '@sluice/test-kit';
import { createTopic, kafkaClient, type TestTopic } from './kafka.ts';
import { TestCluster, uniqueName } from './processes.ts';
import { createBucket, s3Client } from './s3.ts';
import { S3FaultProxy } from './s3-fault-proxy.ts';
import { ZkView } from './zk-view.ts';

export interface FaultRunOptions {
  /** The cluster's name: its processes, ZooKeeper chroot and queue prefix derive from it. */
  name: string;
  /** Settings of every process of the cluster. */
  env?: Record<string, string>;
  /** The base of the bucket's unique name. */
  bucket: string;
}

export class FaultRun {
  readonly kafka = kafkaClient();
  readonly s3 = s3Client();
  readonly cluster: TestCluster;
  readonly bucket: string;
  readonly #deferred: Array<() => Promise<unknown> | unknown> = [];
  readonly #views: ZkView[] = [];
  readonly #proxies: S3FaultProxy[] = [];
  readonly #topics: TestTopic[] = [];
  #dropBucket: (() => Promise<void>) | null = null;

  constructor(opts: FaultRunOptions) {
    this.cluster = new TestCluster({ name: opts.name, ...(opts.env ? { env: opts.env } : {}) });
    this.bucket = uniqueName(opts.bucket).toLowerCase();
    before(async () => {
      this.#dropBucket = (await createBucket(this.s3, this.bucket)).delete;
    });
    after(() => this.#cleanup());
  }

  /** A view of the cluster's ZooKeeper chroot, closed at the end. */
  async zkView(): Promise<ZkView> {
    const view = await ZkView.open(this.cluster.env.SLUICE_ZOOKEEPER!);
    this.#views.push(view);
    return view;
  }

  /** An S3 fault proxy in front of the stack's S3, passing every request after `delayMs`; closed at the end. */
  async s3Proxy(delayMs = 0): Promise<S3FaultProxy> {
    const proxy = await S3FaultProxy.start(loadStackEnv().SLUICE_S3_ENDPOINT);
    if (delayMs > 0) proxy.rule = () => ({ kind: 'pass', delayMs });
    this.#proxies.push(proxy);
    return proxy;
  }

  /** A Kafka topic with a unique name from `base` (and topic settings, if any), deleted at the end. */
  async topic(
    base: string,
    partitions: number,
    configEntries?: Parameters<typeof createTopic>[3],
  ): Promise<TestTopic> {
    const topic = await createTopic(this.kafka, uniqueName(base), partitions, configEntries);
    this.#topics.push(topic);
    return topic;
  }

  /** Runs `fn` at the end, before the cluster stops (last deferred first). */
  defer(fn: () => Promise<unknown> | unknown): void {
    this.#deferred.push(fn);
  }

  async #cleanup(): Promise<void> {
    for (const fn of this.#deferred.reverse()) await fn();
    await this.cluster.stopAll();
    for (const view of this.#views) await view.close();
    for (const proxy of this.#proxies) await proxy.close();
    for (const topic of this.#topics) await topic.delete();
    await this.#dropBucket?.();
  }
}
