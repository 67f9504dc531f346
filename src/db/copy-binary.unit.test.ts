import { describe, expect, it } from 'vitest';
import { copyHeader, copyRow, copyTrailer } from './copy-binary.js';

describe('binary COPY rows', () => {
  it('frames the header and the trailer as PostgreSQL reads them', () => {
    expect(copyHeader().toString('hex')).toBe('5047434f50590aff0d0a00' + '00000000' + '00000000');
    expect(copyTrailer().toString('hex')).toBe('ffff');
  });

  it.each([
    ['text', { text: 'é' }, '00000002c3a9'],
    ['null text', { text: null }, 'ffffffff'],
    ['int4', { int4: -2 }, '00000004fffffffe'],
    ['int8', { int8: 2 ** 40 }, '000000080000010000000000'],
    ['jsonb (version byte, then the text)', { jsonb: '[]' }, '00000003015b5d'],
    [
      'vector (dimensions, unused, float4 big-endian)',
      { vector: new Float32Array([1, -0.5]) },
      '0000000c' + '0002' + '0000' + '3f800000' + 'bf000000',
    ],
  ] as const)('encodes %s with its length', (_name, field, hex) => {
    expect(copyRow([field]).toString('hex')).toBe('0001' + hex);
  });

  it('puts the field count first and the fields in order', () => {
    expect(copyRow([{ int4: 1 }, { text: 'a' }]).toString('hex')).toBe(
      '0002' + '0000000400000001' + '0000000161',
    );
  });
});
