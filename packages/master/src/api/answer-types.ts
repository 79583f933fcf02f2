/**
 * The shapes of the API's answers (and of the bodies it takes) that the `sluice` CLI
 * (packages/cli) reads, derived from the routes' JSON schemas. Exported as types only, under
 * `@sluice/master/answer-types`: the CLI type-checks against the schemas the master serializes
 * with, yet imports nothing of the master at run time and installs without it.
 */

export type { DryRunView } from '../topics/topic-dry-run.ts';
export type { AuditAnswer } from './audit-routes.ts';
export type { PatternListAnswer, PatternViewAnswer } from './pattern-schemas.ts';
export type { RecoverAnswer } from './recover-routes.ts';
export type { ReplayAnswer, ReplayListAnswer } from './replay-schemas.ts';
export type { StatusAnswer } from './status-schema.ts';
export type {
  TopicDetailAnswer,
  TopicListAnswer,
  TopicPatchBody,
  TopicPutBody,
  TopicRecordAnswer,
  TopicUpsertAnswer,
} from './topic-schemas.ts';
export type { TopicsExportAnswer, TopicsFileAnswer } from './topics-file-routes.ts';
export type { WorkerListAnswer } from './workers-routes.ts';
