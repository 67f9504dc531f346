import { describe, expect, it } from 'vitest';
import { refreshAtMostEvery } from './refresh-cache.js';

describe('refreshAtMostEvery', () => {
  it.each([
    // asks at these times (ms) → refreshes run
    [[0, 1, 2, 4_999], 1],
    [[0, 5_000], 2],
    [[0, 100, 5_100, 5_200, 10_100], 3],
  ])('asked at %j: %i refreshes', async (times, runs) => {
    let clock = 0;
    let n = 0;
    const get = refreshAtMostEvery(
      5_000,
      async () => {
        n++;
      },
      () => clock,
    );
    for (const t of times) {
      clock = t;
      await get();
    }
    expect(n).toBe(runs);
  });

  it('shares a failed refresh within the window, and tries again after it', async () => {
    let clock = 0;
    let n = 0;
    const get = refreshAtMostEvery(
      1_000,
      () => (n++ === 0 ? Promise.reject(new Error('down')) : Promise.resolve()),
      () => clock,
    );
    await expect(get()).rejects.toThrow('down');
    await expect(get()).rejects.toThrow('down');
    clock = 1_000;
    await expect(get()).resolves.toBeUndefined();
    expect(n).toBe(2);
  });
});
