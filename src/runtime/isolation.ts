import { classify, isOutage } from './classify.js';

/** Handles a batch; returns, per item, undefined (done) or the error it failed with. */
export type Handle<T> = (batch: T[]) => Promise<unknown[] | void>;

/**
 * Runs the handler. A batch that fails as a whole, for any reason but an outage, is
 * split in halves until the failing items stand alone: one bad message costs its batch
 * a few extra runs, and its neighbours (other tenants' included) go through. Handlers
 * are idempotent, so running a message's half again is harmless.
 */
export async function runIsolating<T>(handle: Handle<T>, items: T[]): Promise<unknown[]> {
  try {
    return (await handle(items)) ?? [];
  } catch (err) {
    if (items.length === 1 || isOutage(classify(err))) return items.map(() => err);
    const mid = Math.ceil(items.length / 2);
    const out: unknown[] = [];
    for (const half of [items.slice(0, mid), items.slice(mid)]) {
      const r = await runIsolating(handle, half);
      for (let i = 0; i < half.length; i++) out.push(r[i]);
    }
    return out;
  }
}

/**
 * runIsolating, bounded by `timeoutMs`: a handler that hangs fails its batch with the
 * error `onTimeout` returns (HANDLER_TIMEOUT, retried like any transient failure)
 * instead of being kept alive for ever. The hung call is abandoned, not cancelled:
 * handlers are idempotent.
 */
export async function runTimed<T>(
  handle: Handle<T>,
  items: T[],
  timeoutMs: number,
  onTimeout: () => unknown,
): Promise<unknown[]> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<unknown[]>((resolve) => {
    timer = setTimeout(() => {
      const err = onTimeout();
      resolve(items.map(() => err));
    }, timeoutMs);
  });
  try {
    return await Promise.race([runIsolating(handle, items), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
