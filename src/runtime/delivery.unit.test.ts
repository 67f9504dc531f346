import { describe, expect, it } from 'vitest';
import { QuickHistory, parkedAttempt, waitUntilDue } from './delivery.js';

describe('delivery shaping', () => {
  it.each([
    // letter attempt, deliveries of the parked copy, attempt it counts as
    [1, 1, 2], // delivered once, when due
    [1, 2, 2], // once early (put back), once when due
    [1, 3, 3], // came back after a crash: one more attempt spent
    [4, 5, 8],
  ])('a parked copy of attempt %i delivered %i times counts as attempt %i', (a, n, want) => {
    expect(parkedAttempt(a, n)).toBe(want);
  });

  it.each([
    [undefined, 1000, 0],
    [1000, 1000, 0],
    [1050, 1000, 0], // 50 ms early counts as due
    [1051, 1000, 51],
    [5000, 1000, 4000],
  ])('a letter due at %s, now %i, waits %i ms', (due, now, want) => {
    expect(waitUntilDue(due, now)).toBe(want);
  });

  it('keeps a bounded quick-retry history, forgetting the oldest first', () => {
    const h = new QuickHistory(2);
    const rec = (attempt: number) => [{ attempt, at: 'now', code: 'X', message: 'm' }];
    h.set('s', 1, rec(1));
    h.set('s', 2, rec(2));
    h.set('s', 3, rec(3));
    expect(h.size).toBe(3);
    h.set('s', 4, rec(4)); // past the limit: the oldest (seq 1) goes
    expect(h.get('s', 1)).toBeUndefined();
    expect(h.get('s', 4)).toEqual(rec(4));
    h.delete('s', 4);
    expect(h.get('s', 4)).toBeUndefined();
    expect(h.get('other', 2)).toBeUndefined();
  });
});
