/**
 * Runs `f` again while it fails with an error `isTransient` accepts, waiting
 * `backoff(attempt)` between attempts (never past the deadline), until `deadline`
 * (epoch ms): then the last error is thrown, as is any error that is not transient.
 * The one retry loop of the code base: publishing through a leader election, storing a
 * claim-checked body, start-up while NATS recovers, a swap while queries hold a table.
 */
export async function retryUntil<T>(
  f: (attempt: number) => Promise<T>,
  o: {
    /** Epoch ms; a failure at or past it is final. Infinity: only isTransient decides. */
    deadline: number;
    /** Whether the failure of `attempt` (0 first) may be tried again. */
    isTransient: (err: unknown, attempt: number) => boolean;
    /** Milliseconds to wait after the failure of `attempt`. */
    backoff: (attempt: number) => number;
    /** Told of each failure that will be retried, before the wait. */
    onRetry?: (err: unknown, attempt: number) => void;
  },
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await f(attempt);
    } catch (err) {
      if (!o.isTransient(err, attempt) || Date.now() >= o.deadline) throw err;
      o.onRetry?.(err, attempt);
      const wait = Math.min(o.backoff(attempt), Math.max(0, o.deadline - Date.now()));
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
