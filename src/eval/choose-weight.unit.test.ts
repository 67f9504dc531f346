import { describe, expect, it } from 'vitest';
import { chooseWeight } from './choose-weight.js';

// Rows: weights 0, 0.5, 1 (keyword alone, mixed, vector alone); columns: queries.
describe('choosing a fusion weight', () => {
  it.each([
    [
      'keyword alone is best',
      [
        [0.8, 0.6, 0.7, 0.9],
        [0.7, 0.5, 0.6, 0.8],
        [0.1, 0.2, 0.1, 0.3],
      ],
      0,
    ],
    [
      'vector alone is best',
      [
        [0.1, 0.2, 0.1, 0.3],
        [0.5, 0.5, 0.6, 0.6],
        [0.8, 0.6, 0.7, 0.9],
      ],
      2,
    ],
    // mixed wins on every query by a steady margin: beyond chance
    [
      'mixing helps on every query',
      [
        [0.5, 0.6, 0.4, 0.5],
        [0.6, 0.7, 0.5, 0.6],
        [0.3, 0.2, 0.3, 0.2],
      ],
      1,
    ],
    // mixed wins on average through one query only: within chance, keep the better side
    [
      'mixing wins by one lucky query',
      [
        [0.5, 0.6, 0.4, 0.5],
        [0.5, 0.59, 0.4, 0.7],
        [0.3, 0.2, 0.3, 0.2],
      ],
      0,
    ],
    [
      'a tie keeps the side',
      [
        [0.5, 0.5],
        [0.5, 0.5],
        [0.1, 0.1],
      ],
      0,
    ],
  ])('%s', (_name, perQuery, expected) => {
    expect(chooseWeight(perQuery)).toBe(expected);
  });
});
