import { describe, expect, it } from 'vitest';
import { firstFilePart } from './multipart.js';

const CRLF = '\r\n';
/** A multipart/form-data body as a browser writes it: parts, then the closing delimiter. */
const body = (boundary: string, parts: { headers: string[]; content: Buffer | string }[]) =>
  Buffer.concat([
    ...parts.flatMap((p) => [
      Buffer.from(`--${boundary}${CRLF}${p.headers.join(CRLF)}${CRLF}${CRLF}`),
      Buffer.from(p.content),
      Buffer.from(CRLF),
    ]),
    Buffer.from(`--${boundary}--${CRLF}`),
  ]);
const field = (name: string, value: string) => ({
  headers: [`Content-Disposition: form-data; name="${name}"`],
  content: value,
});
const file = (filename: string, content: Buffer | string, type?: string) => ({
  headers: [
    `Content-Disposition: form-data; name="file"; filename="${filename}"`,
    ...(type ? [`Content-Type: ${type}`] : []),
  ],
  content,
});
// Bytes a naive parser would cut at: CRLF, a dash pair and a delimiter-like prefix.
const binary = Buffer.from([0x25, 0x50, 0x44, 0x46, 0x0d, 0x0a, 0x2d, 0x2d, 0x42, 0x00, 0xff]);

describe('firstFilePart', () => {
  it.each([
    {
      name: 'a file after a field',
      contentType: 'multipart/form-data; boundary=XyZ',
      body: body('XyZ', [field('note', 'hello'), file('a.pdf', binary, 'application/pdf')]),
      want: { bytes: binary, filename: 'a.pdf', mediaType: 'application/pdf' },
    },
    {
      name: 'a quoted boundary and no part content-type',
      contentType: 'multipart/form-data; boundary="b;q"',
      body: body('b;q', [file('notes.txt', 'plain text')]),
      want: { bytes: Buffer.from('plain text'), filename: 'notes.txt' },
    },
    {
      name: 'the first of two files',
      contentType: 'multipart/form-data; charset=utf-8; boundary=----WebKitFormBoundary7MA4',
      body: body('----WebKitFormBoundary7MA4', [
        file('one.html', '<p>one</p>', 'text/html'),
        file('two.html', '<p>two</p>', 'text/html'),
      ]),
      want: { bytes: Buffer.from('<p>one</p>'), filename: 'one.html', mediaType: 'text/html' },
    },
    {
      name: 'an empty file (FILE_EMPTY is the producer’s to say)',
      contentType: 'multipart/form-data; boundary=e',
      body: body('e', [file('empty.pdf', '')]),
      want: { bytes: Buffer.alloc(0), filename: 'empty.pdf' },
    },
  ])('finds $name', ({ contentType, body: b, want }) => {
    expect(firstFilePart(b, contentType)).toEqual(want);
  });

  it.each([
    {
      name: 'no boundary',
      contentType: 'multipart/form-data',
      body: body('x', [file('a.txt', 'a')]),
      message: /without a boundary/,
    },
    {
      name: 'fields only',
      contentType: 'multipart/form-data; boundary=x',
      body: body('x', [field('a', '1'), field('b', '2')]),
      message: /no file part/,
    },
    {
      name: 'a body cut before its closing delimiter',
      contentType: 'multipart/form-data; boundary=x',
      body: body('x', [file('a.txt', 'abc')]).subarray(0, 60),
      message: /no file part/,
    },
    {
      name: 'another boundary than the header names',
      contentType: 'multipart/form-data; boundary=y',
      body: body('x', [file('a.txt', 'abc')]),
      message: /no file part/,
    },
  ])('refuses $name with REQUEST_INVALID', ({ contentType, body: b, message }) => {
    expect(() => firstFilePart(b, contentType)).toThrow(message);
    try {
      firstFilePart(b, contentType);
    } catch (err) {
      expect((err as { code?: string }).code).toBe('REQUEST_INVALID');
    }
  });
});
