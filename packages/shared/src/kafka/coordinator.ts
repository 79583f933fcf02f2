/**
 * Kafka layer, coordinator: FindCoordinator for one consumer group. Group requests
 * (OffsetFetch, DescribeGroups) must go to the broker that coordinates the group; any broker
 * says which one. Kept apart from the requests that need it, so that reading a group's offsets
 * (registration from a consumer group) and writing them (mirroring) find it alike.
 */
import type { Broker, findCoordinatorV6 } from '@platformatic/kafka';
import { kafkaCall } from './call.ts';
import { kafkaErrorName } from './errors.ts';
import type { KafkaClient } from './options.ts';

/** FindCoordinator's key type for a consumer group (1 is a transaction id). */
const GROUP_KEY_TYPE = 0;

/** Codes after which asking again shortly finds the coordinator (it is being elected or loaded). */
export const COORDINATOR_RETRY_CODES: ReadonlySet<number> = new Set([
  14, // COORDINATOR_LOAD_IN_PROGRESS
  15, // COORDINATOR_NOT_AVAILABLE
  16, // NOT_COORDINATOR
]);

/** A group's coordinator could not be found now; carries Kafka's code (retry when it is one of {@link COORDINATOR_RETRY_CODES}). */
export class CoordinatorError extends Error {
  readonly kafkaCode: number;
  constructor(group: string, kafkaCode: number) {
    super(`no coordinator for consumer group ${JSON.stringify(group)}: ${kafkaErrorName(kafkaCode)}`);
    this.kafkaCode = kafkaCode;
  }
}

/** The broker coordinating consumer group `group` (asked of any bootstrap broker). */
export async function kafkaGroupCoordinator(client: KafkaClient, group: string): Promise<Broker> {
  const { response } = await kafkaCall<findCoordinatorV6.FindCoordinatorResponse>(
    client,
    null,
    'FindCoordinator',
    (api) => {
      // Versions 4 and later batch keys; every Kafka since 3.0 speaks them.
      if (api.version < 4)
        throw new Error(`FindCoordinator v${api.version} is older than Sluice speaks (4+)`);
      return [GROUP_KEY_TYPE, [group]];
    },
  );
  const c = response.coordinators.find((x) => x.key === group) ?? response.coordinators[0];
  if (c?.errorCode !== 0) throw new CoordinatorError(group, c?.errorCode ?? 15);
  return { host: c.host, port: c.port };
}
