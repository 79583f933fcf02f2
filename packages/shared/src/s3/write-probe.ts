/**
 * The proof that S3 credentials may use a topic's destination: a HeadBucket (the bucket exists
 * and they may see it), a PUT of one small object under `{prefix}/{topic}/_sluice/probe/`
 * (conditional, as commit records are written, unless the server lacks conditional writes;
 * with the topic's server-side encryption) and a DELETE of it (the audit ignores probe keys in
 * case a crash comes in between). One definition for the master, which checks a destination
 * at registration with its own credentials, and the worker, which checks its own before it
 * takes jobs again after one failed for a reason of its own (issue 15, points 2 and 3).
 */
import { randomBytes } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { probeKey } from '../object-key.ts';
import type { OutputSpec } from '../topic-config.ts';
import { deleteKeys, encryptionHeaders, headBucket, putJson } from './s3-requests.ts';

export interface WriteProbeOptions {
  /** The server has conditional writes (SLUICE_S3_CONDITIONAL_WRITES). */
  conditionalWrites: boolean;
  /** Who writes the probe (a master's or worker's id), named in the probe object. */
  writer: string;
}

/** Runs the probe for `topic` writing to `spec`'s destination; throws the step's SluiceError. */
export async function probeDestinationWrite(
  s3: S3Client,
  topic: string,
  spec: OutputSpec,
  opts: WriteProbeOptions,
): Promise<void> {
  const { bucket, prefix } = spec.destination;
  const key = probeKey(prefix, topic, `${Date.now()}-${randomBytes(6).toString('hex')}`);
  await headBucket(s3, bucket);
  // Without conditional writes a plain PUT: the key is unique, there is nothing to guard.
  await putJson(
    s3,
    bucket,
    key,
    { probe: 'Sluice checks it may write here; deleted at once', writer: opts.writer },
    {
      create: opts.conditionalWrites,
      conditionalWrites: opts.conditionalWrites,
      encryption: encryptionHeaders(spec),
      op: 'PutObject (write probe)',
    },
  );
  await deleteKeys(s3, bucket, [key]);
}
