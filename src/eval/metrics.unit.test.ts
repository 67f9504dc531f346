import { describe, expect, it } from 'vitest';
import { foldToDocuments, mrrAt, ndcgAt, percentile, recallAt } from './metrics.js';

const rel = new Map([
  ['a', 1],
  ['b', 2],
]);

describe('retrieval metrics', () => {
  it('folds chunk hits to documents in first-seen order', () => {
    expect(
      foldToDocuments([
        { documentId: 'x' },
        { documentId: 'a' },
        { documentId: 'x' },
        { documentId: 'b' },
      ]),
    ).toEqual(['x', 'a', 'b']);
  });

  it.each([
    // ranked, nDCG@10 computed by hand: gains / log2(rank + 1), over the ideal order (b, a)
    [['b', 'a'], 1],
    [['a', 'b'], (1 + 2 / Math.log2(3)) / (2 + 1 / Math.log2(3))],
    [['x', 'b'], 2 / Math.log2(3) / (2 + 1 / Math.log2(3))],
    [['x', 'y'], 0],
    [[], 0],
  ])('nDCG@10 of %j', (ranked, expected) => {
    expect(ndcgAt(ranked, rel, 10)).toBeCloseTo(expected, 12);
  });

  it('cuts nDCG, recall and MRR at k', () => {
    expect(ndcgAt(['x', 'b'], rel, 1)).toBe(0);
    expect(recallAt(['x', 'b', 'a'], rel, 2)).toBe(0.5);
    expect(recallAt(['x', 'b', 'a'], rel, 3)).toBe(1);
    expect(mrrAt(['x', 'y', 'a'], rel, 10)).toBeCloseTo(1 / 3, 12);
    expect(mrrAt(['x', 'y', 'a'], rel, 2)).toBe(0);
  });

  it('takes nearest-rank percentiles', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile([], 99)).toBe(0);
  });
});
