import { describe, expect, it } from 'vitest';
import { fuse, normalise } from './fusion.js';

const list = (...xs: [string, number][]) => xs.map(([key, score]) => ({ key, score }));

describe('hybrid fusion', () => {
  it('normalises scores by the list minimum and maximum; a flat list to 1', () => {
    expect([...normalise(list(['a', 3], ['b', 2], ['c', 1])).entries()]).toEqual([
      ['a', 1],
      ['b', 0.5],
      ['c', 0],
    ]);
    expect([...normalise(list(['a', 0.7], ['b', 0.7])).values()]).toEqual([1, 1]);
    expect(normalise([]).size).toBe(0);
  });

  const vector = list(['v1', 0.9], ['both', 0.8], ['v2', 0.5]);
  const keyword = list(['k1', 12], ['both', 10], ['k2', 2]);
  it.each([
    // weight, expected order (scores computed by hand below)
    [1, ['v1', 'both', 'v2', 'k1', 'k2']], // vector alone; keyword-only hits score 0 (ties by key)
    [0, ['k1', 'both', 'k2', 'v1', 'v2']], // keyword alone
    // 0.5: v1 .5, both .5·(0.75)+.5·(0.8) = .775, v2 0, k1 .5, k2 0
    [0.5, ['both', 'k1', 'v1', 'k2', 'v2']],
  ])('weight %d ranks %j', (w, order) => {
    expect(fuse(vector, keyword, w).map((h) => h.key)).toEqual(order);
  });

  it('scores are the weighted sum of normalised scores', () => {
    const fused = new Map(fuse(vector, keyword, 0.25).map((h) => [h.key, h.score]));
    expect(fused.get('both')).toBeCloseTo(0.25 * 0.75 + 0.75 * 0.8, 12);
    expect(fused.get('k1')).toBeCloseTo(0.75, 12);
    expect(fused.get('v1')).toBeCloseTo(0.25, 12);
  });

  it('keeps the other side’s order when the weighted side found nothing', () => {
    // Keyword weight 1 but no keyword hit: vector order, not key order.
    const v = list(['z', 0.9], ['m', 0.8], ['a', 0.7]);
    expect(fuse(v, [], 0).map((h) => h.key)).toEqual(['z', 'm', 'a']);
    expect(fuse([], list(['z', 3], ['a', 1]), 1).map((h) => h.key)).toEqual(['z', 'a']);
  });

  it('clamps the weight to 0…1 and fuses an empty side', () => {
    expect(fuse(vector, keyword, 7)).toEqual(fuse(vector, keyword, 1));
    expect(fuse(vector, [], 0.3).map((h) => h.key)).toEqual(['v1', 'both', 'v2']);
  });
});
