import { describe, expect, it } from 'vitest';
import { parseBlocks } from './blocks.js';
import { splitDocument, type SplitOptions } from './split.js';

/** A whitespace tokenizer: one token per word (additive, like WordPiece over words). */
const words = (t: string): number => (t.match(/\S+/g) ?? []).length;
const opts = (maxTokens: number, overlapTokens = 0, countTokens = words): SplitOptions => ({
  maxTokens,
  overlapTokens,
  countTokens,
});
const sentence = (i: number, n = 10): string =>
  `${Array.from({ length: n - 1 }, (_, k) => `${k === 0 ? 'W' : 'w'}${i}_${k}`).join(' ')} end${i}.`; // capitalised: ICU does not break before a lower-case word
const paragraph = (from: number, count: number, n = 10): string =>
  Array.from({ length: count }, (_, k) => sentence(from + k, n)).join(' ');

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Invariants every split must keep. */
function checkInvariants(
  doc: string,
  chunks: ReturnType<typeof splitDocument>,
  o: SplitOptions,
): void {
  let lastStart = -1;
  for (const c of chunks) {
    expect(c.tokens).toBeLessThanOrEqual(o.maxTokens);
    expect(o.countTokens(c.embedText)).toBe(c.tokens);
    expect(doc.slice(c.start, c.end)).toBe(c.text);
    expect(c.start).toBeGreaterThanOrEqual(lastStart);
    lastStart = c.start;
  }
  // Every word of the document is in some chunk (headings live in the prefix).
  const covered = chunks.flatMap((c) => c.embedText.match(/\S+/g) ?? []);
  for (const w of doc.replace(/^#+ .*$/gm, '').match(/\S+/g) ?? []) expect(covered).toContain(w);
}

describe('splitDocument', () => {
  it('keeps a short text as one chunk with exact offsets', () => {
    const doc = '\n\n  Hello there. This is short.\n';
    const [c, ...rest] = splitDocument(doc, 'text/plain', opts(50));
    expect(rest).toEqual([]);
    expect(c).toMatchObject({ text: 'Hello there. This is short.', headings: [], tokens: 5 });
    expect(doc.slice(c!.start, c!.end)).toBe(c!.text);
  });

  it('gives nothing for an empty or blank document', () => {
    expect(splitDocument('', 'text/plain', opts(50))).toEqual([]);
    expect(splitDocument(' \n\n\t\n', 'text/markdown', opts(50))).toEqual([]);
  });

  it('packs whole paragraphs and breaks between them', () => {
    const paras = [0, 3, 6, 9, 12].map((i) => paragraph(i, 3)); // 30 tokens each
    const doc = paras.join('\n\n');
    const chunks = splitDocument(doc, 'text/plain', opts(100));
    expect(chunks.map((c) => c.tokens)).toEqual([90, 60]);
    expect(chunks[0]!.text).toBe(paras.slice(0, 3).join('\n\n'));
    checkInvariants(doc, chunks, opts(100));
  });

  it('splits a paragraph too long for one chunk by sentences', () => {
    const doc = paragraph(0, 25); // 250 tokens, 25 sentences
    const chunks = splitDocument(doc, 'text/plain', opts(64));
    expect(chunks.length).toBe(5);
    for (const c of chunks) expect(c.text).toMatch(/end\d+\.$/); // whole sentences
    checkInvariants(doc, chunks, opts(64));
  });

  it('repeats up to overlapTokens of whole sentences from the previous chunk', () => {
    const doc = paragraph(0, 25);
    const o = opts(64, 20);
    const chunks = splitDocument(doc, 'text/plain', o);
    for (let i = 1; i < chunks.length; i++) {
      const prev = chunks[i - 1]!;
      const cur = chunks[i]!;
      expect(cur.start).toBeLessThan(prev.end); // overlaps
      const shared = doc.slice(cur.start, prev.end);
      expect(words(shared)).toBeLessThanOrEqual(20);
      expect(words(shared)).toBeGreaterThan(0);
      expect(shared).toMatch(/^W\d+_0 /); // starts at a sentence boundary
    }
    checkInvariants(doc, chunks, o);
  });

  it('cuts a sentence longer than a chunk by words, and a huge word by characters', () => {
    const longSentence = Array.from({ length: 150 }, (_, i) => `x${i}`).join(' ') + '.';
    const chunks = splitDocument(longSentence, 'text/plain', opts(40));
    expect(chunks.length).toBe(4);
    checkInvariants(longSentence, chunks, opts(40));

    const perFourChars = (t: string): number =>
      (t.match(/\S+/g) ?? []).reduce((n, w) => n + Math.ceil(w.length / 4), 0);
    const blob = `start ${'Q'.repeat(1000)} end`;
    const o = opts(50, 0, perFourChars);
    const cut = splitDocument(blob, 'text/plain', o);
    expect(cut.every((c) => c.tokens <= 50)).toBe(true);
    expect(
      cut
        .map((c) => c.text)
        .join('')
        .replace(/\s/g, ''),
    ).toBe(blob.replace(/\s/g, ''));
  });

  it('carries the markdown heading path into what is embedded and never crosses a heading', () => {
    const doc = [
      '# Guide',
      '',
      'Intro text here.',
      '',
      '## Install',
      '',
      'Run the installer. Then reboot.',
      '',
      '```sh',
      '# not a heading, a comment',
      'make install',
      '```',
      '',
      '## Use',
      '',
      'Open the app.',
    ].join('\n');
    const chunks = splitDocument(doc, 'text/markdown', opts(100));
    expect(chunks.map((c) => c.headings)).toEqual([
      ['Guide'],
      ['Guide', 'Install'],
      ['Guide', 'Use'],
    ]);
    expect(chunks[1]!.text).toContain('# not a heading, a comment');
    expect(chunks[1]!.embedText).toMatch(/^Guide > Install\n\nRun the installer/);
    expect(chunks[2]!.embedText).toBe('Guide > Use\n\nOpen the app.');
    checkInvariants(doc, chunks, opts(100));
  });

  it('treats # lines as text in plain text documents', () => {
    const [c] = splitDocument('# Title\n\nBody.', 'text/plain', opts(50));
    expect(c!.headings).toEqual([]);
    expect(c!.text).toBe('# Title\n\nBody.');
  });

  it('drops a heading path that would eat the budget', () => {
    const doc = `# ${'very long heading '.repeat(20)}\n\nShort body text.`;
    const [c] = splitDocument(doc, 'text/markdown', opts(20));
    expect(c!.headings).toEqual([]);
    expect(c!.embedText).toBe('Short body text.');
  });

  it('is deterministic and keeps its invariants on varied documents', () => {
    let seed = 7;
    const rand = (n: number): number => (seed = (seed * 48271) % 2147483647) % n;
    for (let d = 0; d < 30; d++) {
      const parts: string[] = [];
      for (let p = 0; p < 1 + rand(12); p++) {
        if (rand(5) === 0) parts.push(`${'#'.repeat(1 + rand(3))} Heading ${d}-${p}`);
        else parts.push(paragraph(p * 100, 1 + rand(15), 3 + rand(25)));
      }
      const doc = parts.join('\n\n');
      const o = opts(32 + rand(200), rand(40));
      const a = splitDocument(doc, 'text/markdown', o);
      expect(splitDocument(doc, 'text/markdown', o)).toEqual(a);
      checkInvariants(doc, a, o);
    }
  });
});

describe('parseBlocks', () => {
  it('resets deeper headings when a shallower one appears', () => {
    const blocks = parseBlocks('# A\n## B\nx\n# C\ny\n### D\nz', 'text/markdown');
    expect(blocks.map((b) => b.headings)).toEqual([['A', 'B'], ['C'], ['C', 'D']]);
  });

  it.each([
    ['CJK, one token per character', () => '\u4e00\u4e8c\u4e09\u56db'.repeat(500)],
    ['emoji (surrogate pairs)', () => '\u{1F600}\u{1F680}\u{1F4A9}'.repeat(400)],
    ['mixed pairs and single units', () => 'a\u{1F600}\u00e9\u{10400}'.repeat(300)],
  ])('cuts a run without spaces (%s) into full chunks, never inside a pair', (_what, make) => {
    const doc = make();
    // One token per code point: a cut inside a pair would be the cheaper one.
    const perCodePoint = (t: string): number => [...t].length;
    const o = opts(37, 0, perCodePoint);
    const chunks = splitDocument(doc, 'text/plain', o);
    let at = 0;
    for (const c of chunks) {
      expect(c.start).toBe(at); // contiguous, nothing skipped or repeated
      expect(c.text).not.toMatch(LONE_SURROGATE);
      expect(c.tokens).toBeLessThanOrEqual(37);
      at = c.end;
    }
    expect(at).toBe(doc.length);
    // Every chunk but the last is full: the search found the longest prefix that fits.
    for (const c of chunks.slice(0, -1)) expect(c.tokens).toBeGreaterThanOrEqual(36);
  });

  it('asks the tokenizer about as often per chunk for a long run as for a short one', () => {
    let calls = 0;
    const counting = (t: string): number => {
      calls++;
      return [...t].length;
    };
    const perChunk = (n: number): number => {
      calls = 0;
      const chunks = splitDocument('\u4e00'.repeat(n), 'text/plain', opts(100, 0, counting));
      return calls / chunks.length;
    };
    // Calls per chunk stay flat as the run grows a hundredfold: linear in the length.
    expect(perChunk(100_000)).toBeLessThan(perChunk(1_000) * 1.5 + 2);
  });
});
