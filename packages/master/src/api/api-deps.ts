/** What the API needs from the master that builds it (main.ts wires the real ones). */
import type { KafkaAdmin, LeaderRecord, Logger, MasterConfig, ZkSession } from '@sluice/shared';
import type { Queue } from 'bullmq';
import type { Registry } from 'prom-client';
import type { MirrorReports } from '../kafka/group-mirror.ts';
import type { MasterMetrics } from '../status/metrics.ts';
import type { DestinationCheck } from '../topics/destination-probe.ts';
import type { PatternReports } from '../topics/pattern-discovery.ts';
import type { TypedPlugin } from './type-provider.ts';

export interface ApiDeps {
  config: MasterConfig;
  /** The current ZooKeeper session (it is replaced after an expiry, so ask for it per request). */
  zk: () => ZkSession;
  kafka: KafkaAdmin;
  queue: Queue;
  election: { isLeader(): boolean; leader(): Promise<LeaderRecord | null> };
  metrics: Registry;
  /** The master's own metrics, for the time-lag gauges the status view refreshes (leader only). */
  masterMetrics?: MasterMetrics;
  /** The group mirror's reports (kafka/group-mirror.ts): filled on the leader, empty on a standby. */
  mirrorReports?: MirrorReports;
  /** The topic patterns' last discovery pass (topics/pattern-discovery.ts): the leader's; empty on a standby. */
  patternReports?: PatternReports;
  log: Logger;
  /**
   * Proves a topic's destination writable before a registration, a destination change or a dry
   * run answers (topics/destination-probe.ts); tests without S3 pass their own.
   */
  checkDestination: DestinationCheck;
  /** Whether this master can serve; the reasons when it cannot (shown by /readyz). */
  ready(): { ok: boolean; reasons: string[] };
}

/** Options every resource plugin receives. */
export interface RouteOptions {
  deps: ApiDeps;
}

/**
 * A resource plugin. Its routes take their request and answer types from their JSON schemas
 * (type-provider.ts), so a schema and the handler that fills it cannot drift apart.
 */
export type RoutePlugin<Extra extends object = object> = TypedPlugin<RouteOptions & Extra>;
