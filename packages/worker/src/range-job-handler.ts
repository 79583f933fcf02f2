/**
 * The BullMQ processor: payload → {@link RangeProcessor} → job outcome.
 *
 * BullMQ retries a failed job with the attempts and backoff the master set when enqueueing.
 * When the last one fails, or the error cannot be fixed by retrying, the range's node is
 * marked `failed` (invariant 7: the leader requeues it after a backoff and shows it to the
 * operator); a non-retryable error is thrown as `UnrecoverableError` so BullMQ stops at once.
 * An aborted job (shutdown, lost ZooKeeper session) writes nothing: the leader requeues it.
 *
 * A failure of the worker's own (attempt-fault.ts: its credentials, an endpoint it cannot
 * reach) is not retried here: the range is marked failed by the worker's fault at once (the
 * leader requeues it without backoff, its failures unchanged), and the {@link OwnFaultGate}
 * stops this worker taking jobs until its probe passes. A job fetched while the gate is closed
 * is handed back the same way without being acted on.
 */

import {
  type AttemptFault,
  classifyAttemptFailure,
  ErrorCodes,
  errorText,
  isSluiceError,
  type Logger,
  parseRangeJob,
  type RangeJobData,
  rangeLabel,
  SluiceError,
} from '@sluice/shared';
import { type Job, UnrecoverableError } from 'bullmq';
import type { OwnFaultGate } from './own-fault-gate.ts';
import type { RangeProcessor } from './range-processor.ts';
import type { WorkerMetrics } from './worker-metrics.ts';

/** What a finished job returns (kept only briefly: jobs are removed on completion). */
export interface RangeJobOutcome {
  outcome: string;
  records?: number;
  objects?: number;
}

export interface RangeJobHandlerDeps {
  processor: RangeProcessor;
  log: Logger;
  metrics?: WorkerMetrics;
  /** Failures of the worker's own close it; absent: every failure counts against the range. */
  ownFaults?: {
    gate: OwnFaultGate;
    /** The check that passes once the fault is fixed, for the service and the job that failed. */
    probe: (
      service: Extract<AttemptFault, { kind: 'worker' }>['service'],
      job: RangeJobData,
    ) => () => Promise<void>;
  };
}

function isRetryable(err: unknown): boolean {
  if (err instanceof SluiceError) return err.retryable;
  // Unknown errors (network, library) may pass; BullMQ's attempts bound them.
  return true;
}

export function createRangeJobHandler(deps: RangeJobHandlerDeps) {
  const { processor, log, metrics, ownFaults } = deps;

  /** Marks the range failed by this worker's fault and ends the job without BullMQ retries. */
  const handBack = async (data: RangeJobData, err: unknown): Promise<never> => {
    try {
      await processor.recordFailure(data, err, 'worker');
    } catch (zkErr) {
      log.warn({ err: errorText(zkErr) }, 'could not mark range failed');
    }
    throw new UnrecoverableError(errorText(err));
  };

  // Three parameters: BullMQ passes an AbortSignal only to processors that declare it.
  return async function handleRangeJob(
    job: Job<unknown, RangeJobOutcome>,
    _token: string | undefined,
    signal?: AbortSignal,
  ): Promise<RangeJobOutcome> {
    let data: RangeJobData;
    try {
      data = parseRangeJob(job.data);
    } catch (err) {
      metrics?.errors.inc({ kind: ErrorCodes.BAD_JOB });
      log.error({ jobId: job.id, err: errorText(err) }, 'bad job payload');
      throw new UnrecoverableError(errorText(err));
    }
    const closed = ownFaults?.gate.notReadyReason ?? null;
    if (closed !== null) {
      log.info({ jobId: job.id, range: rangeLabel(data) }, 'job taken while not ready; handed back');
      await handBack(data, new SluiceError(ErrorCodes.UNAVAILABLE, `the worker is not ready: ${closed}`));
    }
    metrics?.activeRanges.inc();
    try {
      const out = await processor.process(data, signal);
      metrics?.ranges.inc({ topic: data.topic, outcome: out.outcome });
      return 'result' in out
        ? { outcome: out.outcome, records: out.result.records, objects: out.result.objects.length }
        : { outcome: out.outcome };
    } catch (err) {
      if (signal?.aborted) {
        metrics?.ranges.inc({ topic: data.topic, outcome: 'aborted' });
        log.warn(
          { jobId: job.id, range: rangeLabel(data), reason: errorText(signal.reason) },
          'range aborted',
        );
        throw err;
      }
      const kind = isSluiceError(err) ? err.code : 'other';
      metrics?.errors.inc({ kind });
      const fault = ownFaults ? classifyAttemptFailure(err) : { kind: 'range' as const };
      if (ownFaults && fault.kind === 'worker') {
        metrics?.ranges.inc({ topic: data.topic, outcome: 'worker-fault' });
        log.error(
          { jobId: job.id, range: rangeLabel(data), attempt: data.attempt, err },
          'range attempt failed for a reason of this worker; the range goes to another worker',
        );
        ownFaults.gate.report({ reason: fault.reason, probe: ownFaults.probe(fault.service, data) });
        await handBack(data, err);
      }
      const retryable = isRetryable(err);
      const attempts = job.opts.attempts ?? 1;
      const last = !retryable || job.attemptsMade + 1 >= attempts;
      log.error(
        {
          jobId: job.id,
          topic: data.topic,
          partition: data.partition,
          range: rangeLabel(data),
          attempt: data.attempt,
          jobAttempt: job.attemptsMade + 1,
          jobAttempts: attempts,
          retryable,
          err,
        },
        last ? 'range failed' : 'range attempt failed; will retry',
      );
      if (last) {
        metrics?.ranges.inc({ topic: data.topic, outcome: 'failed' });
        try {
          await processor.recordFailure(data, err);
        } catch (zkErr) {
          log.warn({ err: errorText(zkErr) }, 'could not mark range failed');
        }
        if (!retryable) throw new UnrecoverableError(errorText(err));
      }
      throw err;
    } finally {
      metrics?.activeRanges.dec();
    }
  };
}
