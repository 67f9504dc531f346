import { describe, expect, it } from 'vitest';
import { runIsolating, runTimed, type Handle } from './isolation.js';

/** A handler that throws for a whole batch holding a bad item, and records every call. */
function recording(bad: (n: number) => boolean, err: Error = new Error('bad item')) {
  const calls: number[][] = [];
  const handle: Handle<number> = (batch) => {
    calls.push([...batch]);
    return batch.some(bad) ? Promise.reject(err) : Promise.resolve();
  };
  return { handle, calls };
}

describe('runIsolating: bisecting a batch that fails as a whole', () => {
  it('returns the handler’s own per-item results when it does not throw', async () => {
    const r = await runIsolating<number>(
      async (b) => b.map((n) => (n === 2 ? 'e' : undefined)),
      [1, 2, 3],
    );
    expect(r).toEqual([undefined, 'e', undefined]);
  });

  it('splits until the bad item stands alone; its neighbours succeed', async () => {
    const { handle, calls } = recording((n) => n === 3);
    const r = await runIsolating(handle, [1, 2, 3, 4, 5, 6, 7, 8]);
    expect(r.map((e) => e !== undefined)).toEqual([
      false,
      false,
      true,
      false,
      false,
      false,
      false,
      false,
    ]);
    // 8 → 4+4 → (2+2) → (1+1): one bad item costs log2(8) extra levels, not 8 runs.
    expect(calls).toEqual([
      [1, 2, 3, 4, 5, 6, 7, 8],
      [1, 2, 3, 4],
      [1, 2],
      [3, 4],
      [3],
      [4],
      [5, 6, 7, 8],
    ]);
  });

  it('splits an odd batch with the larger half first', async () => {
    const { handle, calls } = recording((n) => n === 1);
    await runIsolating(handle, [1, 2, 3]);
    expect(calls.slice(0, 2)).toEqual([
      [1, 2, 3],
      [1, 2],
    ]);
  });

  it('does not split a batch failing for an outage: every item gets the error', async () => {
    const outage = Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' });
    const { handle, calls } = recording(() => true, outage);
    const r = await runIsolating(handle, [1, 2, 3, 4]);
    expect(calls).toHaveLength(1);
    expect(r).toEqual([outage, outage, outage, outage]);
  });
});

describe('runTimed: a handler that hangs', () => {
  it('fails every item with the timeout’s error', async () => {
    const err = new Error('timed out');
    const r = await runTimed<number>(
      () => new Promise(() => {}),
      [1, 2],
      20,
      () => err,
    );
    expect(r).toEqual([err, err]);
  });

  it('returns the handler’s results when it answers in time', async () => {
    let timedOut = false;
    const r = await runTimed<number>(
      async (b) => b.map(() => undefined),
      [1, 2],
      10_000,
      () => (timedOut = true),
    );
    expect(r).toEqual([undefined, undefined]);
    expect(timedOut).toBe(false);
  });
});
