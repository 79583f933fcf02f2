/**
 * Leader election among masters (docs/range-lifecycle.md, "Leadership").
 *
 * Each master creates an ephemeral sequential candidate `/sluice/election/c-…`; the lowest
 * leads. A candidate watches only its predecessor, so one master leaving wakes one other,
 * not all of them. The winner writes `/sluice/leader` and keeps the resulting version as its
 * epoch: every leader write checks it (fenced-writer.ts), so an old leader that wakes up
 * after its successor rewrote the node cannot write.
 *
 * One election lives on one ZooKeeper session. When the session is lost the election is
 * over (`deposed` at once); the owner opens a new session and runs a new election.
 */
import { EventEmitter } from 'node:events';
import {
  decodeJson,
  ELECTION_PATH,
  ELECTION_PREFIX,
  encodeJson,
  isNodeExists,
  LEADER_PATH,
  type LeaderRecord,
  type Logger,
  type ZkSession,
} from '@sluice/shared';

export interface LeaderElectionOptions {
  session: ZkSession;
  /** Who this master is; `since` is set when it wins. */
  identity: Omit<LeaderRecord, 'since' | 'v'>;
  log: Logger;
}

/**
 * Events: `elected` (epoch: number), `deposed` (reason: string). After `deposed` the
 * election is finished; run a new one (on a new session) to stand again.
 */
export class LeaderElection extends EventEmitter {
  readonly #zk: ZkSession;
  readonly #identity: Omit<LeaderRecord, 'since' | 'v'>;
  readonly #log: Logger;
  #candidate: string | null = null;
  #epoch: number | null = null;
  #over: string | null = null;
  #checking = false;
  #recheck = false;
  readonly #onLost: (reason: string) => void;

  constructor(opts: LeaderElectionOptions) {
    super();
    this.#zk = opts.session;
    this.#identity = opts.identity;
    this.#log = opts.log;
    this.#onLost = (reason) => this.#end(`ZooKeeper session lost: ${reason}`);
  }

  /** True while this master holds the current epoch. */
  get isLeader(): boolean {
    return this.#epoch !== null && this.#over === null;
  }

  /** Version of `/sluice/leader` written when this master won; null unless leading. */
  get epoch(): number | null {
    return this.isLeader ? this.#epoch : null;
  }

  /** This master's candidate node name (`c-0000000007`), once standing. */
  get candidate(): string | null {
    return this.#candidate;
  }

  /** Enters the election. Resolves once the candidate exists (leading or waiting). */
  async start(): Promise<void> {
    if (this.#candidate) return;
    if (!this.#zk.alive) throw new Error('cannot stand for election on a lost ZooKeeper session');
    this.#zk.once('lost', this.#onLost);
    const path = await this.#zk.create(ELECTION_PREFIX, encodeJson(this.#record()), {
      ephemeral: true,
      sequential: true,
    });
    this.#candidate = path.slice(ELECTION_PATH.length + 1);
    this.#log.info({ candidate: this.#candidate }, 'standing for election');
    await this.#check();
  }

  /**
   * Gives up leadership or candidacy: removes the candidate (the next master takes over at
   * once) and ends this election. The session stays open.
   */
  async resign(reason = 'resigned'): Promise<void> {
    const candidate = this.#candidate;
    this.#end(reason, true);
    if (candidate && this.#zk.alive) {
      try {
        await this.#zk.remove(`${ELECTION_PATH}/${candidate}`);
      } catch {
        // gone already, or the session went with it: either way it no longer stands
      }
    }
  }

  /**
   * The current leader as the cluster sees it: `/sluice/leader` when it names the lowest
   * candidate, else the lowest candidate itself (it won but has not written yet). Null when
   * no master stands.
   */
  async leaderInfo(): Promise<LeaderRecord | null> {
    return readLeader(this.#zk);
  }

  #record(): LeaderRecord {
    return { v: 1, ...this.#identity, since: new Date().toISOString() };
  }

  #end(reason: string, voluntary = false): void {
    if (this.#over) return;
    const wasLeader = this.isLeader;
    this.#over = reason;
    this.#zk.off('lost', this.#onLost);
    if (wasLeader) {
      if (voluntary) this.#log.info({ reason, epoch: this.#epoch }, 'leadership handed over');
      else this.#log.warn({ reason, epoch: this.#epoch }, 'leadership lost');
      this.emit('deposed', reason);
    }
  }

  /** Serialized: a watch firing while a check runs makes it run once more. */
  async #check(): Promise<void> {
    if (this.#checking) {
      this.#recheck = true;
      return;
    }
    this.#checking = true;
    try {
      do {
        this.#recheck = false;
        await this.#checkOnce();
      } while (this.#recheck && !this.#over);
    } catch (err) {
      if (!this.#over) {
        this.#log.error({ err }, 'election check failed');
        this.#end(`election check failed: ${String(err)}`);
      }
    } finally {
      this.#checking = false;
    }
  }

  async #checkOnce(): Promise<void> {
    while (!this.#over && this.#epoch === null) {
      const names = (await this.#zk.children(ELECTION_PATH)).filter((n) => n.startsWith('c-')).sort();
      const mine = names.indexOf(this.#candidate!);
      if (mine < 0) {
        // Our ephemeral node is gone, so the session is too; `lost` follows.
        this.#end('election candidate vanished');
        return;
      }
      if (mine === 0) {
        await this.#win();
        return;
      }
      const predecessor = `${ELECTION_PATH}/${names[mine - 1]}`;
      const present = await this.#zk.exists(predecessor, () => {
        void this.#check();
      });
      if (present) {
        this.#log.debug({ waitingOn: names[mine - 1] }, 'waiting for predecessor');
        return;
      }
    }
  }

  async #win(): Promise<void> {
    const data = encodeJson(this.#record());
    let version: number;
    try {
      await this.#zk.create(LEADER_PATH, data);
      version = 0;
    } catch (err) {
      if (!isNodeExists(err)) throw err;
      version = await this.#zk.set(LEADER_PATH, data, -1);
    }
    if (this.#over) return;
    this.#epoch = version;
    this.#log.info({ epoch: version, candidate: this.#candidate }, 'elected leader');
    this.emit('elected', version);
    void this.#watchLeaderNode();
  }

  /** A safety net: should anyone else rewrite `/sluice/leader`, this master's epoch is over. */
  async #watchLeaderNode(): Promise<void> {
    if (!this.isLeader) return;
    try {
      const node = await this.#zk.get(LEADER_PATH, () => {
        void this.#watchLeaderNode();
      });
      if (!this.isLeader) return;
      if (!node || node.version !== this.#epoch) {
        this.#end(`/sluice/leader was rewritten (version ${node?.version ?? 'none'}, epoch ${this.#epoch})`);
      }
    } catch (err) {
      if (this.isLeader && this.#zk.alive) this.#log.warn({ err }, 'cannot watch the leader node');
    }
  }
}

/** See {@link LeaderElection.leaderInfo}; usable with any session. */
export async function readLeader(zk: ZkSession): Promise<LeaderRecord | null> {
  const names = (await zk.children(ELECTION_PATH)).filter((n) => n.startsWith('c-')).sort();
  if (names.length === 0) return null;
  const [written, lowest] = await Promise.all([zk.get(LEADER_PATH), zk.get(`${ELECTION_PATH}/${names[0]}`)]);
  const candidate =
    lowest && lowest.data.length > 0 ? decodeJson<LeaderRecord>(lowest.data, 'candidate') : null;
  const leader =
    written && written.data.length > 0 ? decodeJson<LeaderRecord>(written.data, LEADER_PATH) : null;
  if (leader && (!candidate || candidate.id === leader.id)) return leader;
  return candidate;
}
