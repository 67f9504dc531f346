import type { Failure } from './classify.js';

export interface RetryPolicy {
  /** Redeliveries through nak(delay) before a message is parked. @defaultValue 3 */
  quickRetries: number;
  /** First quick redelivery delay, doubled each time, with jitter. @defaultValue 500 */
  quickBackoffMs: number;
  /** First parked delay, doubled each time, with jitter. @defaultValue 5_000 */
  parkBackoffMs: number;
  /** @defaultValue 600_000 */
  parkBackoffMaxMs: number;
  /** Attempts in all before a message is dead-lettered. @defaultValue 8 */
  maxAttempts: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  quickRetries: 3,
  quickBackoffMs: 500,
  parkBackoffMs: 5_000,
  parkBackoffMaxMs: 600_000,
  maxAttempts: 8,
};

/** What to do with a message whose attempt failed. Delays are before jitter. */
export type Decision =
  | { action: 'redeliver'; delayMs: number }
  | { action: 'park'; delayMs: number }
  | { action: 'dead-letter' }
  /** Replay: a permanent failure was dead-lettered when the message was first handled. */
  | { action: 'skip' };

export interface Attempted {
  /** The attempt that failed: 1 for the first, counted across the retry stream. */
  attempt: number;
  /** Where this attempt came from: its own stream, or the retry stream. */
  source: 'stream' | 'retry';
}

/**
 * The retry decision, as a pure function of the failure, the attempt and the policy:
 *
 * - live, permanent → dead-letter now;
 * - live, transient, from the stream, within `quickRetries` → redeliver after
 *   quickBackoff · 2^(attempt-1);
 * - live, transient, attempts left → park in the retry stream after
 *   parkBackoff · 2^(parked so far), capped at parkBackoffMax;
 * - live, transient, the last attempt spent → dead-letter;
 * - replay, transient → redeliver (capped at 30 s), for ever: a replay must apply
 *   every event; replay, permanent → skip.
 */
export function decide(
  f: Pick<Failure, 'retryable'>,
  d: Attempted,
  policy: RetryPolicy,
  mode: 'live' | 'replay' = 'live',
): Decision {
  if (mode === 'replay')
    return f.retryable
      ? {
          action: 'redeliver',
          delayMs: Math.min(30_000, policy.quickBackoffMs * 2 ** Math.min(10, d.attempt - 1)),
        }
      : { action: 'skip' };
  if (!f.retryable) return { action: 'dead-letter' };
  if (d.source === 'stream' && d.attempt <= policy.quickRetries)
    return { action: 'redeliver', delayMs: policy.quickBackoffMs * 2 ** (d.attempt - 1) };
  if (d.attempt < policy.maxAttempts) {
    const parked = Math.max(0, d.attempt - (policy.quickRetries + 1));
    return {
      action: 'park',
      delayMs: Math.min(policy.parkBackoffMaxMs, policy.parkBackoffMs * 2 ** parked),
    };
  }
  return { action: 'dead-letter' };
}
