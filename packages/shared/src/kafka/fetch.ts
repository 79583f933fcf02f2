/**
 * Kafka layer, fetch: the one Fetch request of Sluice, group-free and session-free, for one
 * partition at one offset, sent to the partition's leader and read by our own answer parser
 * (fetch-response.ts) wherever it reads the negotiated version. The worker's range reader and
 * the master's samplers build their fetches here, so they ask Kafka the same question with
 * different limits.
 *
 * No fetch session (id 0, epoch -1: a full fetch each time), since a caller has one partition
 * and the next fetch offset is always its own. Fetch v13+ names the topic by id, so a topic
 * deleted and re-created under the same name answers UNKNOWN_TOPIC_ID instead of the new
 * topic's records.
 */
import type { API, Broker, Reader } from '@platformatic/kafka';
import { brokerConnection, negotiatedApi, sendRequest } from './call.ts';
import type { WireBatch } from './committed-records.ts';
import { KafkaErrorCodes, kafkaErrorName } from './errors.ts';
import {
  type EncodedBatch,
  type FetchAnswer,
  type FetchedPartition,
  parseFetchAnswer,
} from './fetch-response.ts';
import { createAPI, fetchV12, fetchV13, fetchV14, fetchV15, fetchV16, fetchV17 } from './library.ts';
import type { KafkaClient } from './options.ts';

/** A batch of an answer: left encoded by our parser (v12 to v17), decoded by the library's (older). */
export type FetchBatch = EncodedBatch | WireBatch;

/** What one fetch asks: a partition at an offset, and how long and how much Kafka may answer. */
export interface FetchRequest {
  topic: string;
  /** Kafka's topic id; sent instead of the name from Fetch v13 on. */
  topicId: string;
  partition: number;
  /** The leader epoch of the metadata the leader was found in. */
  leaderEpoch: number;
  offset: bigint;
  /** How long the broker may hold a fetch that has no data yet. */
  maxWaitMs: number;
  /** Most bytes of the answer; Kafka exceeds it only to send a single batch that is larger. */
  maxBytes: number;
  /** FetchIsolationLevels: 0 read_uncommitted, 1 read_committed. */
  isolationLevel: number;
}

/** The arguments of the library's Fetch request writers (v12 to v17 take the same eleven). */
export function fetchRequestArgs(req: FetchRequest, version: number): unknown[] {
  return [
    req.maxWaitMs,
    1, // min bytes: answer as soon as there is anything
    req.maxBytes,
    req.isolationLevel,
    0, // no fetch session ...
    -1, // ... and none to be made (FINAL_EPOCH): a full fetch each time
    [
      {
        topicId: version >= 13 ? req.topicId : req.topic,
        partitions: [
          {
            partition: req.partition,
            currentLeaderEpoch: req.leaderEpoch,
            fetchOffset: req.offset,
            lastFetchedEpoch: -1,
            partitionMaxBytes: req.maxBytes,
          },
        ],
      },
    ],
    [], // forgotten topics (sessions only)
    '', // rack id
  ];
}

type FetchApi = API<unknown[], FetchAnswer<FetchBatch>>;

/** The library's request writers of the versions our parser reads. */
const FETCH_REQUESTS: Record<number, (...args: never[]) => unknown> = {
  12: fetchV12.createRequest,
  13: fetchV13.createRequest,
  14: fetchV14.createRequest,
  15: fetchV15.createRequest,
  16: fetchV16.createRequest,
  17: fetchV17.createRequest,
};
const fetchApis = new Map<number, FetchApi>();

/**
 * Fetch at `version` with the library's request writer and our answer parser, or undefined
 * for a version our parser does not read. The answer's body is made contiguous once (a view
 * when it arrived in one piece).
 */
function ownFetchApi(version: number): FetchApi | undefined {
  const createRequest = FETCH_REQUESTS[version];
  if (!createRequest) return undefined;
  let api = fetchApis.get(version);
  if (!api) {
    api = createAPI<unknown[], FetchAnswer<FetchBatch>>(
      1,
      version,
      createRequest as never,
      (_correlationId: number, _apiKey: number, apiVersion: number, reader: Reader) =>
        parseFetchAnswer(reader.buffer.slice(reader.position, reader.buffer.length), apiVersion),
    );
    fetchApis.set(version, api);
  }
  return api;
}

/**
 * Sends one Fetch to `broker` at the highest version both sides speak, through our own answer
 * parser where it reads that version. Resolves with answers that carry error codes; rejects
 * only when there is no answer.
 */
export async function kafkaFetch(
  client: KafkaClient,
  broker: Broker,
  req: FetchRequest,
): Promise<FetchAnswer<FetchBatch>> {
  const connection = await brokerConnection(client, broker);
  const negotiated = await negotiatedApi<unknown[], FetchAnswer<FetchBatch>>(client, 'Fetch');
  const api = ownFetchApi(negotiated.version) ?? negotiated;
  return sendRequest(api, connection, fetchRequestArgs(req, api.version));
}

/** The asked partition of a Fetch answer, and how long Kafka asks the client to hold back. */
export interface PartitionFetch {
  partition: FetchedPartition<FetchBatch>;
  throttleTimeMs: number;
}

/**
 * {@link kafkaFetch}, then the asked partition of the answer (its error code is the caller's
 * to read). Rejects when the answer has no data for the partition: the whole request was
 * refused, or the partition is missing.
 */
export async function fetchPartition(
  client: KafkaClient,
  broker: Broker,
  req: FetchRequest,
): Promise<PartitionFetch> {
  const response = await kafkaFetch(client, broker, req);
  const partition = response.responses
    .flatMap((t) => t.partitions)
    .find((p) => p.partitionIndex === req.partition);
  if (!partition) {
    const code = response.errorCode || KafkaErrorCodes.UNKNOWN_TOPIC_OR_PARTITION;
    throw new Error(`fetch answered ${kafkaErrorName(code)} without partition data`);
  }
  return { partition, throttleTimeMs: response.throttleTimeMs };
}
