/**
 * A bounded pool: many small requests (S3 HEADs and DELETEs, Kafka samples) run a few at a
 * time, so that a topic with thousands of objects neither queues them one by one nor opens
 * thousands of sockets at once. The master and the worker both use this one.
 */

/**
 * Runs `fn` over `items` with at most `concurrency` calls at once (at least one); results in
 * input order. Items are taken in order. The first failure rejects the whole; calls already
 * started run to their end, and no new item is started by the runner that failed.
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const runner = async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, runner));
  return out;
}
