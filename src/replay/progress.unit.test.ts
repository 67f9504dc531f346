import { describe, expect, it } from 'vitest';
import { RateWindow, eventsApplied, summarize } from './progress.js';

describe('replay progress', () => {
  it.each([
    // streams, rate, fraction, eta
    [{ events: { start: 1, stop: 100, applied: 0 } }, 0, 0, null],
    [{ events: { start: 1, stop: 100, applied: 50 } }, 10, 0.5, 5],
    [{ events: { start: 1, stop: 100, applied: 100 } }, 0, 1, 0],
    // applied past the stop (the catch-up saw more) counts as done, no more
    [{ events: { start: 1, stop: 100, applied: 150 } }, 0, 1, 0],
    // nothing to do at all is done
    [{ events: { start: 1, stop: 0, applied: 0 } }, 0, 1, 0],
    [
      {
        events: { start: 1, stop: 10, applied: 10 },
        status: { start: 1, stop: 30, applied: 10 },
      },
      5,
      0.5,
      4,
    ],
  ])('%j at %i/s: fraction %f, eta %s s', (streams, rate, fraction, eta) => {
    const p = summarize('documents', 'running', streams, rate);
    expect(p.fraction).toBeCloseTo(fraction);
    expect(p.etaSeconds).toBe(eta);
    expect(p.eventsPerSecond).toBe(rate);
  });

  it('counts the events a replay applied over all streams', () => {
    expect(
      eventsApplied({
        events: { start: 5, stop: 10, applied: 10 },
        status: { start: 1, stop: 3, applied: 0 },
      }),
    ).toBe(6);
  });

  it('measures the rate over its last samples only', () => {
    const w = new RateWindow(3);
    expect(w.add(0, 0)).toBe(0); // one sample: no rate yet
    expect(w.add(10, 1000)).toBe(10);
    expect(w.add(30, 2000)).toBe(15);
    // The first sample (0 at 0 s) leaves the window: (130 - 10) / 2 s.
    expect(w.add(130, 3000)).toBe(60);
  });
});
