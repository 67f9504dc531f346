import type { Sql } from '../db/index.js';
import { SluiceError } from '../errors/index.js';

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

/** Runs a swap again while long queries keep the tables locked (SWAP_BUSY), up to a minute. */
export async function retryWhileBusy(
  swap: () => Promise<void>,
  onBusy: (attempt: number) => void,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await swap();
    } catch (err) {
      if (!(err instanceof SluiceError && err.code === 'SWAP_BUSY') || attempt >= 12) throw err;
      onBusy(attempt);
      await new Promise((r) => setTimeout(r, 5_000));
    }
  }
}
