import { describe, expect, it } from 'vitest';
import { retryUntil } from './retry-until.js';

class Transient extends Error {}

/** Fails with the given errors in turn, then returns 'ok'; records the attempts it saw. */
function failing(...errors: Error[]) {
  const seen: number[] = [];
  const f = (attempt: number): Promise<string> => {
    seen.push(attempt);
    const e = errors.shift();
    return e ? Promise.reject(e) : Promise.resolve('ok');
  };
  return { f, seen };
}

const transient = (err: unknown): boolean => err instanceof Transient;

describe('retryUntil', () => {
  it('retries transient failures with the backoff of each attempt, and returns', async () => {
    const { f, seen } = failing(new Transient('a'), new Transient('b'));
    const waits: number[] = [];
    const retried: string[] = [];
    const r = await retryUntil(f, {
      deadline: Date.now() + 60_000,
      isTransient: transient,
      backoff: (a) => (waits.push(a), 1),
      onRetry: (err) => retried.push((err as Error).message),
    });
    expect(r).toBe('ok');
    expect(seen).toEqual([0, 1, 2]);
    expect(waits).toEqual([0, 1]);
    expect(retried).toEqual(['a', 'b']);
  });

  it('throws an error that is not transient at once', async () => {
    const boom = new Error('permanent');
    const { f, seen } = failing(boom);
    await expect(
      retryUntil(f, { deadline: Date.now() + 60_000, isTransient: transient, backoff: () => 1 }),
    ).rejects.toBe(boom);
    expect(seen).toEqual([0]);
  });

  it('throws the last transient error once the deadline has passed', async () => {
    const last = new Transient('still down');
    const seen: number[] = [];
    // The second attempt fails well after the deadline, whatever the timers and the load.
    const f = async (attempt: number): Promise<string> => {
      seen.push(attempt);
      if (attempt === 0) throw new Transient('down');
      await new Promise((r) => setTimeout(r, 600));
      throw attempt === 1 ? last : new Transient('never reached');
    };
    await expect(
      retryUntil(f, { deadline: Date.now() + 500, isTransient: transient, backoff: () => 1 }),
    ).rejects.toBe(last);
    expect(seen).toEqual([0, 1]);
  });

  it('never waits past the deadline', async () => {
    // Down for good: however early a timer fires against Date.now(), every attempt
    // fails (with two failures, a third attempt 1 ms before the deadline returned 'ok').
    const { f } = failing(...Array.from({ length: 10_000 }, () => new Transient('down')));
    const started = Date.now();
    // A 60 s backoff capped by a 50 ms deadline: done well within the 10x margin.
    await expect(
      retryUntil(f, { deadline: started + 50, isTransient: transient, backoff: () => 60_000 }),
    ).rejects.toBeInstanceOf(Transient);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('lets isTransient bound the attempts when there is no deadline', async () => {
    const { f, seen } = failing(...Array.from({ length: 5 }, () => new Transient('busy')));
    await expect(
      retryUntil(f, {
        deadline: Infinity,
        isTransient: (err, attempt) => transient(err) && attempt < 2,
        backoff: () => 1,
      }),
    ).rejects.toBeInstanceOf(Transient);
    expect(seen).toEqual([0, 1, 2]);
  });
});
