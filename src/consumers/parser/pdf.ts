import { getDocument, type PDFDocumentProxy } from 'pdfjs-dist/legacy/build/pdf.mjs';
import type { TextItem } from 'pdfjs-dist/types/src/display/api.js';
import { SluiceError } from '../../errors/index.js';
import {
  TextBuilder,
  squash,
  type DocumentFacts,
  type PageSpan,
  type ParsedText,
} from './parsed-text.js';

export interface PdfLimits {
  /** Most pages a PDF may have (SLUICE_PARSE_MAX_PAGES). */
  maxPages: number;
}

interface Line {
  text: string;
  size: number;
  y: number;
}

/**
 * A PDF's text layer with Mozilla's pdf.js, page by page. Lines set clearly larger than
 * the document's body text become `#` headings (PDFs have no heading markup: the font
 * size is what a reader sees too); a vertical gap wider than a line starts a new block.
 * A page with no text at all (a scan) is reported in `pagesWithoutText`.
 */
export async function parsePdf(bytes: Uint8Array, limits: PdfLimits): Promise<ParsedText> {
  const doc = await open(bytes);
  try {
    if (doc.numPages > limits.maxPages) {
      throw new SluiceError(
        'FILE_TOO_LARGE',
        `the PDF has ${doc.numPages} pages; the limit is ${limits.maxPages} (SLUICE_PARSE_MAX_PAGES)`,
        { details: { pages: doc.numPages, limit: limits.maxPages } },
      );
    }
    const pages: Line[][] = [];
    for (let n = 1; n <= doc.numPages; n++) {
      const page = await doc.getPage(n);
      const content = await page.getTextContent();
      pages.push(linesOf(content.items.filter((i): i is TextItem => 'str' in i)));
      page.cleanup();
    }
    const body = bodySize(pages);
    const headingSizes = [
      ...new Set(
        pages
          .flat()
          .filter((l) => isHeading(l, body))
          .map((l) => l.size),
      ),
    ]
      .sort((a, b) => b - a)
      .slice(0, 3);
    const out = new TextBuilder();
    const spans: PageSpan[] = [];
    const empty: number[] = [];
    pages.forEach((lines, i) => {
      const start = out.offset;
      if (lines.length === 0) empty.push(i + 1);
      let block: string[] = [];
      let prev: Line | undefined;
      const end = (): void => {
        out.block(block.join('\n'));
        block = [];
      };
      for (const l of lines) {
        const level = headingSizes.indexOf(l.size);
        if (level >= 0 && isHeading(l, body)) {
          end();
          out.block(`${'#'.repeat(level + 1)} ${l.text}`);
        } else {
          if (prev && Math.abs(prev.y - l.y) > Math.max(prev.size, l.size) * 1.8) end();
          block.push(l.text);
        }
        prev = l;
      }
      end();
      // The span starts after the blank line that separates it from the last page.
      const first = out.offset > start && start > 0 ? start + 2 : start;
      spans.push({ page: i + 1, start: Math.min(first, out.offset), end: out.offset });
    });
    return {
      text: out.toString(),
      pages: spans,
      ...(empty.length > 0 ? { pagesWithoutText: empty } : {}),
      facts: await factsOf(doc),
    };
  } finally {
    await doc.destroy();
  }
}

async function open(bytes: Uint8Array): Promise<PDFDocumentProxy> {
  const task = getDocument({
    // pdf.js takes ownership of (detaches) the buffer it is given: pass a copy.
    data: new Uint8Array(bytes),
    isEvalSupported: false,
    disableFontFace: true,
    useSystemFonts: false,
    stopAtErrors: false,
    verbosity: 0,
  });
  try {
    return await task.promise;
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name === 'PasswordException')
      throw new SluiceError('FILE_ENCRYPTED', 'the PDF is password-protected', { cause: err });
    throw new SluiceError('PARSE_FAILED', `the PDF cannot be read: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** Text items to lines: items on one baseline join, in reading order as pdf.js gives them. */
function linesOf(items: TextItem[]): Line[] {
  const lines: Line[] = [];
  let text = '';
  let size = 0;
  let y = Number.NaN;
  const push = (): void => {
    const t = squash(text);
    if (t !== '') lines.push({ text: t, size: Math.round(size * 10) / 10, y });
    text = '';
    size = 0;
  };
  for (const item of items) {
    // pdf.js types the text matrix as any[]: [a, b, c, d, x, y].
    const m = item.transform as number[];
    const itemY = m[5] ?? 0;
    const itemSize = Math.hypot(m[2] ?? 0, m[3] ?? 0);
    if (text !== '' && Math.abs(itemY - y) > Math.max(size, itemSize) * 0.5) push();
    if (text === '') y = itemY;
    text += item.str;
    if (item.str.trim() !== '') size = Math.max(size, itemSize);
    if (item.hasEOL) {
      push();
      y = Number.NaN;
    }
  }
  push();
  return lines;
}

/** The font size most characters are set in. */
function bodySize(pages: Line[][]): number {
  const chars = new Map<number, number>();
  for (const l of pages.flat()) chars.set(l.size, (chars.get(l.size) ?? 0) + l.text.length);
  let best = 0;
  let most = -1;
  for (const [size, n] of chars) if (n > most) [best, most] = [size, n];
  return best;
}

const isHeading = (l: Line, body: number): boolean =>
  body > 0 && l.size >= body * 1.2 && l.text.length <= 120 && /\p{L}/u.test(l.text);

async function factsOf(doc: PDFDocumentProxy): Promise<DocumentFacts> {
  const { info } = (await doc.getMetadata().catch(() => ({ info: {} }))) as {
    info: Record<string, unknown>;
  };
  const str = (v: unknown, max: number): string | undefined =>
    typeof v === 'string' && v.trim() !== '' ? v.trim().slice(0, max) : undefined;
  const facts: DocumentFacts = {};
  const title = str(info.Title, 1024);
  const author = str(info.Author, 256);
  const language = str(info.Language, 32);
  const created = pdfDate(info.CreationDate);
  const modified = pdfDate(info.ModDate);
  if (title) facts.title = title;
  if (author) facts.authors = [author];
  if (language) facts.language = language;
  if (created) facts.created = created;
  if (modified) facts.modified = modified;
  return facts;
}

/** `D:YYYYMMDDHHmmSS…` (the PDF date format) to an ISO date, or undefined. */
export function pdfDate(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const m = /^D:(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?/.exec(v);
  if (!m) return undefined;
  const [, y, mo = '01', d = '01', h = '00', mi = '00', s = '00'] = m;
  const date = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}Z`);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}
