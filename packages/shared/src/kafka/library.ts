/**
 * Kafka layer, the library's parts that Sluice runs, loaded file by file. @platformatic/kafka's
 * index loads all of the package: its admin, consumer and producer clients with some forty
 * option validators Ajv compiles at import, and its schema registries. Sluice makes its own
 * calls over the base client (call.ts) and uses none of that, yet loading it cost about
 * 0.2 CPU s of every master's and worker's start (issue 14). The package exports only its
 * index, so the files below are found next to it; the modules are the index's own (same
 * files, so the same classes and symbols if the index is loaded too). Types still come from
 * the index: `import type` loads nothing.
 *
 * A file the library moves or renames fails every start and every test at once (the import
 * throws), never quietly.
 *
 * Each file is named by a literal `load('./…')`: scripts/bundle.ts turns those into imports
 * the program's bundle includes.
 */
import type * as Kafka from '@platformatic/kafka';

const index = import.meta.resolve('@platformatic/kafka');
const load = (path: string): Promise<unknown> => import(new URL(path, index).href);

const [base, enumerations, definitions, errors, protocolErrors, compression, ...fetches] = (await Promise.all(
  [
    load('./clients/base/base.js'),
    load('./apis/enumerations.js'),
    load('./apis/definitions.js'),
    load('./errors.js'),
    load('./protocol/errors.js'),
    load('./protocol/compression.js'),
    load('./apis/consumer/fetch-v12.js'),
    load('./apis/consumer/fetch-v13.js'),
    load('./apis/consumer/fetch-v14.js'),
    load('./apis/consumer/fetch-v15.js'),
    load('./apis/consumer/fetch-v16.js'),
    load('./apis/consumer/fetch-v17.js'),
  ],
)) as [
  Pick<typeof Kafka, 'Base' | 'kGetApi' | 'kGetBootstrapConnection'>,
  Pick<typeof Kafka, 'FetchIsolationLevels' | 'ListOffsetTimestamps' | 'FindCoordinatorKeyTypes'>,
  Pick<typeof Kafka, 'createAPI'>,
  Pick<typeof Kafka, 'findErrorBy'>,
  Pick<typeof Kafka, 'protocolErrorsCodesById'>,
  Pick<typeof Kafka, 'compressionsAlgorithmsByBitmask'>,
  typeof Kafka.fetchV12,
  typeof Kafka.fetchV13,
  typeof Kafka.fetchV14,
  typeof Kafka.fetchV15,
  typeof Kafka.fetchV16,
  typeof Kafka.fetchV17,
];

export const { Base } = base;
// Annotated: destructuring would widen the library's unique symbols to `symbol`.
export const kGetApi: typeof Kafka.kGetApi = base.kGetApi;
export const kGetBootstrapConnection: typeof Kafka.kGetBootstrapConnection = base.kGetBootstrapConnection;
export const { FetchIsolationLevels, ListOffsetTimestamps, FindCoordinatorKeyTypes } = enumerations;
export const { createAPI } = definitions;
export const { findErrorBy } = errors;
export const { protocolErrorsCodesById } = protocolErrors;
export const { compressionsAlgorithmsByBitmask } = compression;
export const [fetchV12, fetchV13, fetchV14, fetchV15, fetchV16, fetchV17] = fetches;
