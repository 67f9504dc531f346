import { JetStreamApiError } from '@nats-io/jetstream';
import { errors, RequestError } from '@nats-io/transport-node';
import { retryUntil } from '../retry-until.js';

/**
 * Errors a JetStream client sees while a server restarts or a stream leader is being
 * re-elected: a timeout waiting for the ack, no responders ("jetstream is not
 * enabled"), a 503 from the API, or a connection that is reconnecting. Retrying the
 * same message id is safe: the stream drops it as a duplicate if it was stored.
 */
export function isTransientPublishError(err: unknown): boolean {
  if (err instanceof errors.TimeoutError) return true;
  // JetStreamNotEnabled (no responders) is not exported by @nats-io/jetstream; it sets its name.
  if (err instanceof Error && err.name === 'JetStreamNotEnabled') return true;
  if (err instanceof RequestError) return true;
  if (err instanceof errors.ConnectionError) return true;
  if (err instanceof JetStreamApiError) return err.status === 503 || err.code === 10008;
  return /timeout|no responders|jetstream is not enabled|temporarily unavailable/i.test(
    String(err),
  );
}

/** Exponential backoff with full jitter: random in [0, min(cap, base·2^attempt)]. */
export function backoffDelay(attempt: number, baseMs = 100, capMs = 2000): number {
  return Math.random() * Math.min(capMs, baseMs * 2 ** attempt);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `f` again while it fails for a transient NATS reason (a cluster electing a
 * leader, a node coming back), with backoff, for up to `deadlineMs`; other errors, and
 * the last transient one, are thrown. Start-up uses it so that a process started while
 * the cluster recovers waits for it instead of exiting.
 */
export async function whileNatsRecovers<T>(
  f: () => Promise<T>,
  o: { deadlineMs?: number; onRetry?: (err: unknown, attempt: number) => void } = {},
): Promise<T> {
  return retryUntil(f, {
    deadline: Date.now() + (o.deadlineMs ?? 60_000),
    isTransient: isTransientPublishError,
    backoff: (attempt) => Math.max(100, backoffDelay(attempt, 250, 2_000)),
    ...(o.onRetry ? { onRetry: o.onRetry } : {}),
  });
}
