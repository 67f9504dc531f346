import { describe, expect, it } from 'vitest';
import { nestedTooDeep } from './json-depth.js';

describe('nestedTooDeep', () => {
  const nest = (n: number, open = '{"a":', close = '}'): string =>
    `${open.repeat(n)}1${close.repeat(n)}`;
  it.each([
    ['flat object', '{"a":1,"b":[1,2]}', 3, false],
    ['exactly at the limit', nest(3), 3, false],
    ['one past the limit', nest(4), 3, true],
    ['arrays count too', nest(4, '[', ']'), 3, true],
    ['brackets inside strings do not', '{"a":"[[[[{{{{"}', 1, false],
    ['escaped quotes stay inside the string', '{"a":"\\"[[[["}', 1, false],
    ['an escaped backslash ends before the quote', '{"a":"\\\\",'.concat('"b":[[1]]}'), 2, true],
    ['siblings do not add up', '[[1],[2],[3],[4]]', 2, false],
    ['not JSON at all', 'just text', 1, false],
  ])('%s', (_what, text, max, expected) => {
    expect(nestedTooDeep(text, max)).toBe(expected);
  });
});
