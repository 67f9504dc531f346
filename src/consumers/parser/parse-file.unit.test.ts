import { describe, expect, it } from 'vitest';
import { isSluiceError } from '../../errors/index.js';
import { parseFile, type ParseLimits } from './parse-file.js';
import { fileMediaTypes, sniff } from '../../contracts/index.js';
import { deepHtml, docxBomb, makeDocx, makePdf } from './test-files.js';

const limits: ParseLimits = { maxPages: 100, maxUnpackedBytes: 16 * 1024 * 1024 };

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'parsed';
  } catch (err) {
    if (!isSluiceError(err)) throw err;
    return err.code;
  }
}

describe('parseFile', () => {
  it('reads a PDF page by page, with a page map, headings and the pages without text', async () => {
    const pdf = makePdf(
      [
        { lines: ['# Installing', 'Run the installer on the first page.'] },
        { lines: [] },
        { lines: ['The third page speaks of teapots.'] },
      ],
      { title: 'Manual', author: 'Ada' },
    );
    const r = await parseFile(pdf, 'application/pdf', limits);
    expect(r.mediaType).toBe(fileMediaTypes.pdf);
    expect(r.text).toContain('# Installing');
    expect(r.pagesWithoutText).toEqual([2]);
    expect(r.facts).toMatchObject({ title: 'Manual', authors: ['Ada'], language: 'en' });
    const page3 = r.pages!.find((p) => p.page === 3)!;
    expect(r.text.slice(page3.start, page3.end)).toBe('The third page speaks of teapots.');
    const page1 = r.pages!.find((p) => p.page === 1)!;
    expect(r.text.slice(page1.start, page1.end)).toContain('first page');
  });

  it('keeps the main content of an HTML page: headings, lists, tables; no scripts or navigation', async () => {
    const html = `<!doctype html><html lang="de"><head><title>Install &amp; run</title>
      <meta name="author" content="Bea"><script>var secret = 1;</script><style>p{}</style></head>
      <body><nav><a href="/">Home</a> <a href="/x">NavLinkText</a></nav>
      <div class="navheader">Prev Next</div>
      <main><h1>Install</h1><p>Run <b>sluice</b> now, with enough words to count as the content of this page.</p>
      <h2>Linux</h2><ul><li>apt-get it</li><li>start it</li></ul>
      <table><tr><th>Option</th><th>Default</th></tr><tr><td>port</td><td>8080</td></tr></table></main>
      <footer>Copyright</footer></body></html>`;
    const r = await parseFile(Buffer.from(html), 'text/html', limits);
    expect(r.text).toBe(
      [
        '# Install',
        'Run sluice now, with enough words to count as the content of this page.',
        '## Linux',
        '- apt-get it',
        '- start it',
        'Option | Default',
        'port | 8080',
      ].join('\n\n'),
    );
    expect(r.facts).toEqual({ title: 'Install & run', language: 'de', authors: ['Bea'] });
  });

  it('reads a DOCX: headings, list items, table rows and its core properties', async () => {
    const docx = makeDocx(
      [
        { heading: 1, text: 'Install' },
        { paragraph: 'Run it.' },
        { heading: 2, text: 'Linux' },
        { item: 'apt-get it' },
        {
          table: [
            ['Option', 'Default'],
            ['port', '8080'],
          ],
        },
      ],
      { title: 'Guide', author: 'Cy' },
    );
    const r = await parseFile(docx, undefined, limits);
    expect(r.mediaType).toBe(fileMediaTypes.docx);
    expect(r.text).toContain('# Install\n\nRun it.\n\n## Linux\n\n- apt-get it');
    expect(r.text).toContain('Option | Default\n\nport | 8080');
    expect(r.facts).toMatchObject({ title: 'Guide', authors: ['Cy'], language: 'en-GB' });
  });

  it.each([
    ['a 0-byte file', () => Buffer.alloc(0), 'application/pdf', 'FILE_EMPTY'],
    [
      'a truncated PDF',
      () => makePdf([{ lines: ['x'] }]).subarray(0, 60),
      'application/pdf',
      'PARSE_FAILED',
    ],
    [
      'garbage after a PDF header',
      () => Buffer.from('%PDF-1.7\n\u0000\u0001garbage'),
      undefined,
      'PARSE_FAILED',
    ],
    [
      'an encrypted PDF',
      () => makePdf([{ lines: ['secret'] }], { encrypt: true }),
      undefined,
      'FILE_ENCRYPTED',
    ],
    [
      'a PDF past the page limit',
      () => makePdf([{ lines: ['p'] }], { repeat: 101 }),
      undefined,
      'FILE_TOO_LARGE',
    ],
    ['a DOCX zip bomb', () => docxBomb(32 * 1024 * 1024), undefined, 'FILE_TOO_LARGE'],
    [
      'a zip that is no DOCX',
      () => docxBomb(10).subarray(0, 30),
      undefined,
      'MEDIA_TYPE_UNSUPPORTED',
    ],
    [
      'binary bytes that say they are text',
      () => Buffer.from([0, 1, 2, 3, 255]),
      'text/plain',
      'MEDIA_TYPE_UNSUPPORTED',
    ],
    [
      'invalid UTF-8 text',
      () => Buffer.from([0x61, 0xff, 0xfe, 0x62, 0x63]),
      'text/plain',
      'MEDIA_TYPE_UNSUPPORTED',
    ],
  ])('ends %s with a stable code', async (_name, make, declared, code) => {
    expect(await codeOf(parseFile(make(), declared, limits))).toBe(code);
  });

  it('parses HTML nested 100,000 levels deep without recursion', async () => {
    const r = await parseFile(Buffer.from(deepHtml(100_000)), 'text/html', limits);
    expect(r.text).toBe('deep text');
  }, 60_000);

  it('believes the bytes over a lying content-type', async () => {
    const pdf = makePdf([{ lines: ['really a PDF'] }]);
    const r = await parseFile(pdf, 'text/html', limits);
    expect(r.mediaType).toBe(fileMediaTypes.pdf);
    expect(r.text).toBe('really a PDF');
  });
});

describe('sniff', () => {
  it.each([
    ['<!DOCTYPE html><p>x', undefined, fileMediaTypes.html],
    ['  <html>', 'text/plain', fileMediaTypes.html],
    ['<p>fragment</p>', 'text/html', fileMediaTypes.html],
    ['# Title', 'text/markdown', fileMediaTypes.markdown],
    ['# Title', undefined, fileMediaTypes.text],
    ['%PDF-1.7', 'text/plain', fileMediaTypes.pdf],
  ])('%j declared %s is %s', (text, declared, expected) => {
    expect(sniff(Buffer.from(text), declared)).toBe(expected);
  });
});
