import { describe, expect, it } from 'vitest';
import { whileNatsRecovers } from './retry.js';

describe('whileNatsRecovers', () => {
  it('retries a transient failure until it succeeds', async () => {
    let calls = 0;
    const r = await whileNatsRecovers(async () => {
      if (++calls < 3) throw new Error('timeout');
      return 'ok';
    });
    expect(r).toBe('ok');
    expect(calls).toBe(3);
  });

  it('throws any other failure at once', async () => {
    let calls = 0;
    await expect(
      whileNatsRecovers(async () => {
        calls++;
        throw new Error('stream name already in use with a different configuration');
      }),
    ).rejects.toThrow(/already in use/);
    expect(calls).toBe(1);
  });

  it('gives up after the deadline with the last transient failure', async () => {
    let calls = 0;
    await expect(
      whileNatsRecovers(
        async () => {
          calls++;
          throw new Error('no responders available');
        },
        { deadlineMs: 300 },
      ),
    ).rejects.toThrow(/no responders/);
    expect(calls).toBeGreaterThan(1);
  });
});
