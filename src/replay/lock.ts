import type { Sql } from '../db/index.js';
import { SluiceError } from '../errors/index.js';
import { retryUntil } from '../retry-until.js';

const LOCK = (p: string): string => `sluice:replay:${p}`;

/**
 * Runs `fn` holding the projection's replay lock (a session advisory lock on a
 * connection of its own, so any process sees it); REPLAY_RUNNING, with `busy` as its
 * message, when another holds it.
 */
export async function withReplayLock<T>(
  sql: Sql,
  projection: string,
  busy: string,
  fn: () => Promise<T>,
): Promise<T> {
  const lock = await sql.reserve();
  try {
    const [{ locked }] =
      (await lock`SELECT pg_try_advisory_lock(hashtext(${LOCK(projection)})) AS locked`) as unknown as [
        { locked: boolean },
      ];
    if (!locked) throw new SluiceError('REPLAY_RUNNING', busy);
    return await fn();
  } finally {
    await lock`SELECT pg_advisory_unlock(hashtext(${LOCK(projection)}))`.catch(() => {});
    lock.release();
  }
}

/** Runs a swap again while long queries keep the tables locked (SWAP_BUSY): 12 tries, 5 s apart. */
export function retryWhileBusy(
  swap: () => Promise<void>,
  onBusy: (attempt: number) => void,
): Promise<void> {
  return retryUntil(swap, {
    deadline: Infinity,
    isTransient: (err, attempt) =>
      err instanceof SluiceError && err.code === 'SWAP_BUSY' && attempt < 11,
    backoff: () => 5_000,
    onRetry: (_err, attempt) => onBusy(attempt + 1),
  });
}
