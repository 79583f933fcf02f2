/**
 * Kafka layer, coordinator: which broker coordinates a consumer group (FindCoordinator, key
 * type GROUP). Every group request (OffsetCommit, OffsetFetch, DescribeGroups) must go to that
 * broker; any other answers NOT_COORDINATOR. Kept in a file of its own because more than one
 * group request starts from it.
 */
import type { Broker, findCoordinatorV6 } from '@platformatic/kafka';
import { kafkaCall } from './call.ts';
import { KafkaErrorCodes, kafkaErrorName } from './errors.ts';
import { FindCoordinatorKeyTypes } from './library.ts';
import type { KafkaClient } from './options.ts';

/** The broker a group's requests go to. */
export type Coordinator = Broker;

/** Group error codes after which asking for the coordinator again (after a backoff) can succeed. */
export const COORDINATOR_CODES: ReadonlySet<number> = new Set([
  KafkaErrorCodes.COORDINATOR_LOAD_IN_PROGRESS,
  KafkaErrorCodes.COORDINATOR_NOT_AVAILABLE,
  KafkaErrorCodes.NOT_COORDINATOR,
]);

/** A coordinator lookup Kafka answered with an error code (rejected with it, for the caller's retry). */
export class CoordinatorError extends Error {
  readonly kafkaCode: number;
  constructor(group: string, kafkaCode: number, detail: string | null) {
    super(`no coordinator for group "${group}": ${kafkaErrorName(kafkaCode)}${detail ? ` (${detail})` : ''}`);
    this.kafkaCode = kafkaCode;
  }
}

/**
 * The broker that coordinates `group`, asked of any bootstrap broker. Rejects with a
 * {@link CoordinatorError} when Kafka answers with an error code (COORDINATOR_NOT_AVAILABLE
 * while the offsets topic is being created, GROUP_AUTHORIZATION_FAILED, …), and as kafkaCall
 * does when no broker answers.
 */
export async function kafkaGroupCoordinator(client: KafkaClient, group: string): Promise<Coordinator> {
  const { response } = await kafkaCall<findCoordinatorV6.FindCoordinatorResponse>(
    client,
    null,
    'FindCoordinator',
    () => [FindCoordinatorKeyTypes.GROUP, [group]],
  );
  const c = response.coordinators.find((x) => x.key === group) ?? response.coordinators[0];
  if (!c) throw new CoordinatorError(group, KafkaErrorCodes.COORDINATOR_NOT_AVAILABLE, 'empty answer');
  if (c.errorCode !== KafkaErrorCodes.NONE)
    throw new CoordinatorError(group, c.errorCode, c.errorMessage ?? null);
  return { host: c.host, port: c.port };
}
