/**
 * The one way the API changes a JSON record in ZooKeeper that other masters may change too
 * (topics, patterns): read it with its version, apply the change, write it back only if the
 * version still holds, and on `BAD_VERSION` read again and re-apply, so that two masters
 * changing one record never lose an update.
 */
import {
  decodeJson,
  ErrorCodes,
  encodeJson,
  isBadVersion,
  isNoNode,
  SluiceError,
  type ZkSession,
} from '@sluice/shared';

/** How often a change is re-applied when other writers keep winning the race. */
const MAX_UPDATE_TRIES = 20;

/**
 * Applies `change` to the record at `path`; returns it as written (or as read, when `change`
 * returned it unchanged). `notFound` is thrown when the node does not exist; `what` names the
 * record in the error when other writers kept winning.
 */
export async function updateJsonNode<T>(
  zk: ZkSession,
  path: string,
  what: string,
  change: (record: T) => T,
  notFound: () => SluiceError,
): Promise<T> {
  for (let i = 0; i < MAX_UPDATE_TRIES; i++) {
    const node = await zk.get(path);
    if (!node) throw notFound();
    const record = decodeJson<T>(node.data, what);
    const next = change(record);
    if (next === record) return next;
    try {
      await zk.set(path, encodeJson(next), node.version);
      return next;
    } catch (err) {
      if (isNoNode(err)) throw notFound();
      if (!isBadVersion(err)) throw err;
    }
  }
  throw new SluiceError(
    ErrorCodes.ZK,
    `${what} kept changing under this request (${MAX_UPDATE_TRIES} tries); try again`,
    { retryable: true },
  );
}
