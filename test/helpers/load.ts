/** Producing test records: all at once, or as a steady load while a test breaks things. */
import type { Producer } from 'kafkajs';
import { makeEvents, type ProducedRecord } from './records.ts';

export function toHeaders(h: Array<[string, string]>): Record<string, string[]> {
  // kafkajs sends a header key with an array value as repeated headers, in order.
  const out: Record<string, string[]> = {};
  for (const [k, v] of h) {
    out[k] ??= [];
    out[k].push(v);
  }
  return out;
}

/** Sends `records` in batches of `batch`, each record to its own partition. */
export async function produceAll(
  producer: Producer,
  topic: string,
  records: ProducedRecord[],
  batch = 2000,
): Promise<void> {
  for (let i = 0; i < records.length; i += batch) {
    await producer.send({
      topic,
      messages: records.slice(i, i + batch).map((r) => ({
        partition: r.partition,
        key: r.key,
        value: r.valueBytes ?? r.value,
        headers: toHeaders(r.headers),
      })),
    });
  }
}

/**
 * `count` events over two partitions, timestamped across the last minute, their keys and
 * values marked with `tag` (so that batches are told apart), produced to `t` at once.
 */
export async function produceTagged(
  t: { producer: Producer; name: string },
  count: number,
  tag: string,
): Promise<ProducedRecord[]> {
  const events = makeEvents(count, { startMs: Date.now(), spanMs: 60_000, partitions: 2, prefix: tag });
  await produceAll(t.producer, t.name, events);
  return events;
}

export interface Load {
  /** Records sent so far. */
  readonly sent: number;
  /** Resolves when every record is sent (rejects when a send failed for good). */
  readonly done: Promise<void>;
}

/**
 * Sends `records` at about `perSecond`, in small batches every 100 ms, so that ranges keep
 * being planned and worked on while the test breaks things. A send is not repeated here when
 * it fails (the idempotent producer retries safely; a repeat of ours would duplicate records
 * in Kafka): the load fails instead.
 */
export function steadyLoad(
  producer: Producer,
  topic: string,
  records: ProducedRecord[],
  perSecond: number,
): Load {
  const state = { sent: 0 };
  const perTick = Math.max(1, Math.round(perSecond / 10));
  const done = (async () => {
    const t0 = Date.now();
    while (state.sent < records.length) {
      const slice = records.slice(state.sent, state.sent + perTick);
      await produceAll(producer, topic, slice);
      state.sent += slice.length;
      const due = t0 + (state.sent / perSecond) * 1000;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  done.catch(() => {});
  return {
    get sent() {
      return state.sent;
    },
    done,
  };
}
