/**
 * A steady trickle of JSON records into a Kafka topic while a test watches numbers move:
 * one batch every `everyMs`, round-robin over the partitions, until stopped or `maxBatches`
 * (bounded, so a forgotten stop cannot run on).
 */
import type { Producer } from 'kafkajs';

export interface Traffic {
  /** Records sent so far. */
  readonly sent: number;
  stop(): Promise<void>;
}

export function startTraffic(
  producer: Producer,
  topic: string,
  opts: { partitions: number; batch?: number; everyMs?: number; maxBatches?: number },
): Traffic {
  const batch = opts.batch ?? 200;
  const everyMs = opts.everyMs ?? 250;
  const maxBatches = opts.maxBatches ?? 2_000;
  let sent = 0;
  let stopped = false;
  const run = (async () => {
    for (let n = 0; n < maxBatches && !stopped; n++) {
      const messages = Array.from({ length: batch }, (_, i) => ({
        partition: (n * batch + i) % opts.partitions,
        key: `user-${(n * batch + i) % 997}`,
        value: JSON.stringify({
          n,
          i,
          ts: Date.now(),
          path: `/page/${i % 40}`,
          status: i % 17 === 0 ? 500 : 200,
        }),
      }));
      await producer.send({ topic, messages });
      sent += batch;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    get sent() {
      return sent;
    },
    async stop() {
      stopped = true;
      await run.catch(() => undefined);
    },
  };
}
