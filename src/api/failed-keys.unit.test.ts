import { describe, expect, it } from 'vitest';
import { FailedKeys } from './failed-keys.js';

const valid = `sk_aaaaaaaaaaaa_${'v'.repeat(43)}`;
const guessed = (i: number) => `sk_bbbbbbbbbbbb_${String(i).padStart(43, 'g')}`;

describe('failed key checks', () => {
  const t0 = 1_000_000;
  const flooded = () => {
    const f = new FailedKeys(60);
    for (let i = 0; i < 60; i++) f.fail('10.0.0.1', guessed(i), t0 + i);
    for (let i = 0; i < 60; i++) f.fail('10.0.0.1', `junk-${i}`, t0 + i);
    return f;
  };

  it.each([
    ['the guessed key id, same address', '10.0.0.1', guessed(99), t0 + 100, 60],
    ['malformed keys, same address', '10.0.0.1', 'junk-x', t0 + 100, 60],
    ['a valid key, same address (behind the same proxy)', '10.0.0.1', valid, t0 + 100, 0],
    ['the guessed key id, another address', '10.0.0.2', guessed(99), t0 + 100, 0],
    ['the guessed key id, a minute later', '10.0.0.1', guessed(99), t0 + 60_000, 0],
  ])('%s', (_what, address, key, now, seconds) => {
    expect(flooded().blockedFor(address, key, now)).toBe(seconds);
  });

  it('below the limit, nothing is blocked', () => {
    const f = new FailedKeys(3);
    f.fail('a', guessed(1), t0);
    f.fail('a', guessed(2), t0);
    expect(f.blockedFor('a', guessed(3), t0)).toBe(0);
    f.fail('a', guessed(3), t0);
    expect(f.blockedFor('a', guessed(4), t0 + 1_000)).toBe(59);
  });
});
