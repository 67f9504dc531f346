import { describe, expect, it } from 'vitest';
import { decide, type Decision, type RetryPolicy } from './retry-decision.js';

const policy: RetryPolicy = {
  quickRetries: 3,
  quickBackoffMs: 500,
  parkBackoffMs: 5_000,
  parkBackoffMaxMs: 30_000,
  maxAttempts: 8,
};
const transient = { retryable: true };
const permanent = { retryable: false };

describe('the retry decision', () => {
  it.each<
    [string, { retryable: boolean }, number, 'stream' | 'retry', 'live' | 'replay', Decision]
  >([
    ['permanent, first attempt', permanent, 1, 'stream', 'live', { action: 'dead-letter' }],
    ['permanent, from the retry stream', permanent, 5, 'retry', 'live', { action: 'dead-letter' }],
    [
      'transient, first attempt',
      transient,
      1,
      'stream',
      'live',
      { action: 'redeliver', delayMs: 500 },
    ],
    [
      'transient, second attempt',
      transient,
      2,
      'stream',
      'live',
      { action: 'redeliver', delayMs: 1_000 },
    ],
    [
      'transient, last quick retry',
      transient,
      3,
      'stream',
      'live',
      { action: 'redeliver', delayMs: 2_000 },
    ],
    [
      'transient, quick retries spent',
      transient,
      4,
      'stream',
      'live',
      { action: 'park', delayMs: 5_000 },
    ],
    [
      'transient, parked once before',
      transient,
      5,
      'retry',
      'live',
      { action: 'park', delayMs: 10_000 },
    ],
    [
      'transient, parked twice before',
      transient,
      6,
      'retry',
      'live',
      { action: 'park', delayMs: 20_000 },
    ],
    [
      'transient, the cap holds',
      transient,
      7,
      'retry',
      'live',
      { action: 'park', delayMs: 30_000 },
    ],
    ['transient, the last attempt', transient, 8, 'retry', 'live', { action: 'dead-letter' }],
    [
      'transient, redelivered past the limit',
      transient,
      12,
      'retry',
      'live',
      { action: 'dead-letter' },
    ],
    // A message redelivered from its stream (its process died) past the quick retries parks.
    [
      'transient, from the stream past the quick retries',
      transient,
      6,
      'stream',
      'live',
      { action: 'park', delayMs: 20_000 },
    ],
    ['replay, transient', transient, 1, 'stream', 'replay', { action: 'redeliver', delayMs: 500 }],
    [
      'replay, transient, capped',
      transient,
      20,
      'stream',
      'replay',
      { action: 'redeliver', delayMs: 30_000 },
    ],
    ['replay, permanent', permanent, 1, 'stream', 'replay', { action: 'skip' }],
  ])('%s', (_what, failure, attempt, source, mode, expected) => {
    expect(decide(failure, { attempt, source }, policy, mode)).toEqual(expected);
  });

  it('never parks past maxAttempts, whatever the policy', () => {
    for (let max = 1; max <= 10; max++)
      for (let attempt = 1; attempt <= 12; attempt++) {
        const d = decide(transient, { attempt, source: 'retry' }, { ...policy, maxAttempts: max });
        expect(d.action).toBe(attempt < max ? 'park' : 'dead-letter');
      }
  });
});
