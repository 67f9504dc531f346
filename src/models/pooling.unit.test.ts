import { describe, expect, it } from 'vitest';
import { packVectors, unpackVectors } from '../contracts/index.js';
import { cosine, meanPoolNormalize } from './pooling.js';

describe('meanPoolNormalize', () => {
  it('averages only unmasked positions and normalises to unit length', () => {
    // batch 1, seq 3 (last is padding), dim 2
    const hidden = new Float32Array([1, 0, 3, 4, 100, 100]);
    const [v] = meanPoolNormalize(hidden, new BigInt64Array([1n, 1n, 0n]), 1, 3, 2);
    // mean of (1,0) and (3,4) = (2,2) → normalised (0.7071, 0.7071)
    expect(v![0]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(v![1]).toBeCloseTo(Math.SQRT1_2, 6);
  });

  it('keeps an all-zero input at zero instead of NaN', () => {
    const [v] = meanPoolNormalize(new Float32Array(6), new BigInt64Array([1n, 1n, 1n]), 1, 3, 2);
    expect(Array.from(v!)).toEqual([0, 0]);
  });
});

describe('packed vectors', () => {
  it('round-trips float32 rows exactly', () => {
    const rows = [new Float32Array([0.1, -2.5, 3e-8]), new Float32Array([1, 0, -1])];
    const back = unpackVectors(packVectors(rows, 3), 2, 3);
    expect(back.map((r) => Array.from(r))).toEqual(rows.map((r) => Array.from(r)));
    expect(cosine(rows[1]!, back[1]!)).toBeCloseTo(1, 10);
  });

  it('rejects a payload whose size does not match rows × dimensions', () => {
    expect(() => unpackVectors(packVectors([new Float32Array(4)], 4), 2, 4)).toThrow(
      /expected 2 × 4 × 4/,
    );
  });
});
