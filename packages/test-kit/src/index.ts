/**
 * `@sluice/test-kit`: what Sluice's tests share, by name. A private workspace: test files,
 * the benchmark and the scripts import it; runtime code never does, and the images leave it
 * out.
 */

export { binNodeFlags, programNodeFlags } from './bin-flags.ts';
export { partitionState, rangeResult, topicRecord, workerRegistration } from './builders.ts';
export { assertBundleStartsFromCompileCache } from './entry-starts.ts';
export { FakeKafka, offsetsTopicByTopic } from './fake-kafka.ts';
export { FakeZk, FakeZkSession } from './fake-zk.ts';
export { type FetchAnswerOptions, fetchV17Answer, uvarintBytes } from './fetch-answer.ts';
export {
  AVRO_ADDR,
  AVRO_ORDER,
  JSON_ADDR,
  JSON_ORDER,
  PROTO_MONEY,
  PROTO_ORDER,
  protoProducerRoot,
} from './referenced-schemas.ts';
export {
  loadStackEnv,
  loadStackSecurity,
  parseEnvFile,
  REPO,
  type StackEnv,
  StackNotRunningError,
  type StackSecurity,
  stackEnvFile,
  uniqueName,
} from './stack-env.ts';
export { eventually, testLogger } from './wait.ts';
export {
  type StackZkFixture,
  stackZkFixture,
  type ZkFixture,
  zkFixture,
  zkFixtureKind,
} from './zk-fixture.ts';
