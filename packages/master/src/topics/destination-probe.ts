/**
 * The destination check of a registration, a destination change and a dry run (issue 15,
 * point 2). A topic registered into a bucket that does not exist, or that Sluice may not write
 * to, was accepted and then failed every range; planned ranges keep their output snapshot, so
 * changing the destination afterwards did not help. The master therefore proves the destination
 * usable before it stores anything, with its own S3 credentials:
 *
 *   1. HeadBucket: the bucket exists and the credentials may see it;
 *   2. a PUT of one small object under `{prefix}/{topic}/_sluice/probe/` (conditional, as commit
 *      records are written, unless SLUICE_S3_CONDITIONAL_WRITES=false): they may write there,
 *      with the topic's server-side encryption;
 *   3. a DELETE of that object: nothing is left behind (the audit ignores probe keys in case a
 *      crash comes between 2 and 3).
 *
 * The steps are shared/s3/write-probe.ts's, which workers run with their own credentials too.
 *
 * What the destination's owner must fix (a missing bucket, a permission) becomes
 * SLUICE_ERR_DESTINATION_UNUSABLE (422) naming the bucket and what to do; S3 being unreachable
 * stays SLUICE_ERR_S3 (503: try again). Workers' credentials are checked by their readiness.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import {
  ErrorCodes,
  type OutputSpec,
  probeDestinationWrite,
  SluiceError,
  type WriteProbeOptions,
} from '@sluice/shared';

/** Checks that a topic's destination can be written; throws the SluiceError to answer with. */
export type DestinationCheck = (topic: string, spec: OutputSpec) => Promise<void>;

/** The probe's settings (the master's id as writer). */
export type DestinationProbeOptions = WriteProbeOptions;

/**
 * The error to answer with for a failed probe step: the caller's problem (422) when the
 * destination itself is unusable, the error as it is otherwise (S3 down: 503).
 */
export function destinationProblem(err: unknown, topic: string, spec: OutputSpec): unknown {
  if (!(err instanceof SluiceError)) return err;
  const bucket = spec.destination.bucket;
  const unusable =
    err.code === ErrorCodes.FORBIDDEN ||
    err.code === ErrorCodes.UNAUTHORIZED ||
    (err.cause as { name?: string } | undefined)?.name === 'NoSuchBucket';
  if (!unusable) return err;
  return new SluiceError(
    ErrorCodes.DESTINATION_UNUSABLE,
    `destination.bucket "${bucket}" cannot be used for topic "${topic}": ${err.message}`,
    { retryable: false, cause: err, details: { bucket, prefix: spec.destination.prefix } },
  );
}

/** A {@link DestinationCheck} that probes with the given S3 client (see the file comment). */
export function destinationProbe(s3: S3Client, opts: DestinationProbeOptions): DestinationCheck {
  return async (topic, spec) => {
    try {
      await probeDestinationWrite(s3, topic, spec, opts);
    } catch (err) {
      throw destinationProblem(err, topic, spec);
    }
  };
}
