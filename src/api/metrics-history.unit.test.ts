import { describe, expect, it } from 'vitest';
import { quantileFromBuckets } from './metrics-history.js';

describe('quantileFromBuckets (as histogram_quantile)', () => {
  const cases: { name: string; buckets: [number, number][]; q: number; want: number | null }[] = [
    {
      name: 'no observations',
      buckets: [
        [0.1, 0],
        [Infinity, 0],
      ],
      q: 0.5,
      want: null,
    },
    {
      name: 'all in the first bucket: interpolated from 0',
      buckets: [
        [0.1, 10],
        [1, 10],
        [Infinity, 10],
      ],
      q: 0.5,
      want: 0.05,
    },
    {
      name: 'median in the second bucket',
      buckets: [
        [0.1, 2],
        [0.5, 8],
        [Infinity, 8],
      ],
      q: 0.5,
      want: 0.1 + (0.4 * 2) / 6,
    },
    {
      name: 'p99 in +Inf: the highest finite bound',
      buckets: [
        [0.1, 1],
        [0.5, 1],
        [Infinity, 100],
      ],
      q: 0.99,
      want: 0.5,
    },
    {
      name: 'buckets given out of order',
      buckets: [
        [Infinity, 4],
        [0.2, 4],
        [0.1, 0],
      ],
      q: 0.5,
      want: 0.15,
    },
    {
      name: 'q = 1 is the bound of the last non-empty bucket',
      buckets: [
        [0.1, 3],
        [0.2, 4],
        [Infinity, 4],
      ],
      q: 1,
      want: 0.2,
    },
  ];
  it.each(cases)('$name', ({ buckets, q, want }) => {
    const got = quantileFromBuckets(buckets, q);
    if (want === null) expect(got).toBeNull();
    else expect(got).toBeCloseTo(want, 10);
  });
});
