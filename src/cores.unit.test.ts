import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { coresOfCpuMax, usableCores } from './cores.js';

describe('coresOfCpuMax', () => {
  it.each([
    ['200000 100000\n', 2],
    ['150000 100000', 2],
    ['50000 100000', 1],
    ['1 100000', 1],
    ['3200000 100000', 32],
    ['max 100000\n', undefined],
    ['0 100000', undefined],
    ['200000 0', undefined],
    ['', undefined],
    ['-5 100000', undefined],
    ['200000', undefined],
    ['lots of cores', undefined],
  ])('%j → %s', (text, cores) => {
    expect(coresOfCpuMax(text)).toBe(cores);
  });
});

describe('usableCores', () => {
  it('is the machine without a limit, and never above it', () => {
    expect(usableCores(undefined)).toBe(availableParallelism());
    expect(usableCores('max 100000')).toBe(availableParallelism());
    expect(usableCores(`${(availableParallelism() + 8) * 100000} 100000`)).toBe(
      availableParallelism(),
    );
  });

  it('is the cgroup limit where it is lower', () => {
    expect(usableCores('100000 100000')).toBe(1);
  });
});
