/**
 * Abort plumbing of one range job. BullMQ aborts a job with a plain string (shutdown, lost
 * ZooKeeper session); a failed heartbeat or upload must stop the Kafka read at once. Each job
 * step therefore runs under its own AbortController that follows the job's signal, and every
 * abort surfaces as an Error that says why (a retryable `SLUICE_ERR_SHUTTING_DOWN` unless the
 * reason already is an Error).
 */
import { ErrorCodes, SluiceError } from '@sluice/shared';

/** The signal's reason as an Error (BullMQ aborts with a plain string). */
export function abortReason(signal: AbortSignal): unknown {
  const r = signal.reason;
  if (r instanceof Error) return r;
  return new SluiceError(
    ErrorCodes.SHUTTING_DOWN,
    `range processing was aborted${r === undefined ? '' : `: ${String(r)}`}`,
    { retryable: true },
  );
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw abortReason(signal);
}

/** One AbortController that also follows an outer signal; `unlink` when the step ends. */
export function linkedController(outer?: AbortSignal): { ac: AbortController; unlink: () => void } {
  const ac = new AbortController();
  if (!outer) return { ac, unlink: () => {} };
  const follow = () => ac.abort(abortReason(outer));
  if (outer.aborted) follow();
  else outer.addEventListener('abort', follow, { once: true });
  return { ac, unlink: () => outer.removeEventListener('abort', follow) };
}
