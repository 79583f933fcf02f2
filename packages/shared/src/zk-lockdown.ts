/**
 * Turning on SLUICE_ZOOKEEPER_DIGEST must also protect the state an installation already has:
 * nodes made before it are `world:anyone` (issue 18 point 2). At start, with a digest, both
 * programs give Sluice's nodes still open to anyone the digest user's ACL, once; later starts
 * find nothing to do.
 */
import type { CommonConfig } from './config.ts';
import { ROOT } from './zk-layout.ts';
import { ZkClientSession } from './zk-session.ts';

/**
 * Closes the open nodes of this installation: its chroot node (when the connect string has
 * one) and everything under Sluice's root. Returns their paths (inside the chroot).
 */
export async function closeOpenZookeeperNodes(
  cfg: Pick<CommonConfig, 'zookeeper' | 'zookeeperDigest' | 'zkSessionTimeoutMs'>,
): Promise<string[]> {
  if (!cfg.zookeeperDigest) return [];
  const session = await ZkClientSession.open({
    connect: cfg.zookeeper,
    sessionTimeoutMs: cfg.zkSessionTimeoutMs,
    digest: cfg.zookeeperDigest,
  });
  try {
    const slash = cfg.zookeeper.indexOf('/');
    const chroot = slash >= 0 && cfg.zookeeper.slice(slash) !== '/';
    return [
      ...(chroot ? await session.closeOpenNodes('/', false) : []),
      ...(await session.closeOpenNodes(ROOT)),
    ];
  } finally {
    await session.close();
  }
}

/** The start-up log line for what {@link closeOpenZookeeperNodes} closed. */
export const closedNodesMessage = (closed: string[]): string =>
  `closed ${closed.length} ZooKeeper nodes made without digest auth to other users (${closed.slice(0, 3).join(', ')}${closed.length > 3 ? ', ...' : ''})`;
