import { describe, expect, it } from 'vitest';
import { needsSelfCalibration, type StoredFusion } from './self-calibration-policy.js';

const self = (chunks: number): StoredFusion => ({
  calibration: { source: 'self-calibrated', chunks },
});

describe('when self-calibration runs', () => {
  it.each<[string, StoredFusion | undefined, number, boolean]>([
    ['too small to say anything', undefined, 49, false],
    ['no weight yet, big enough', undefined, 50, true],
    [
      'calibrated on judged queries: never replaced',
      { calibration: { split: 'train' } },
      1e6,
      false,
    ],
    ['set by hand: never replaced', { calibration: null }, 1e6, false],
    ['self-calibrated, grown by half', self(1000), 1500, false],
    ['self-calibrated, doubled', self(1000), 2000, true],
    ['self-calibrated, halved', self(1000), 500, true],
    ['self-calibrated, shrunk by a third', self(1000), 667, false],
    ['self-calibrated without a size', { calibration: { source: 'self-calibrated' } }, 100, true],
    ['self-calibrated, shrunk below the minimum', self(1000), 10, false],
  ])('%s', (_, stored, chunks, expected) => {
    expect(needsSelfCalibration(stored, chunks)).toBe(expected);
  });
});
