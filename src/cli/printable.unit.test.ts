import { describe, expect, it } from 'vitest';
import { printable } from './printable.js';

describe('printable', () => {
  it.each([
    ['note-1', 'note-1'],
    ['🦘👩‍👩‍👧', '"🦘👩\\u200d👩\\u200d👧"'],
    ['a/b', '"a/b"'],
    [' x ', '" x "'],
    ['tab\tand\nnewline', '"tab\\tand\\nnewline"'],
    ['\u202eשלום\u202c', '"\\u202eשלום\\u202c"'],
    ['\u200bzw\ufeff', '"\\u200bzw\\ufeff"'],
    ['say "hi"', '"say \\"hi\\""'],
    ['C:\\dir', '"C:\\\\dir"'],
    ['שלום', 'שלום'],
  ])('%j prints as %s', (id, shown) => {
    expect(printable(id)).toBe(shown);
  });

  it('never prints a line break or an invisible character, whatever the id', () => {
    for (let c = 0; c <= 0xffff; c++) {
      if (c >= 0xd800 && c <= 0xdfff) continue;
      const shown = printable(`a${String.fromCharCode(c)}b`);
      expect(shown, `U+${c.toString(16)}`).not.toMatch(/[\p{C}\p{Zl}\p{Zp}\n\r]/u);
    }
  });

  it('shortens long ids to max characters and an ellipsis', () => {
    expect(printable('🦘'.repeat(1024), 3)).toBe('🦘🦘🦘…');
    expect(printable('x'.repeat(10), 10)).toBe('x'.repeat(10));
  });
});
