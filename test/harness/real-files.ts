import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A folder of real documents from Debian's packages, made at set-up and never committed:
 * an R manual of 41 pages (r-doc-pdf, 309 KB) as a PDF, two pages of PostgreSQL's manual
 * (postgresql-doc-15) as HTML, and a third page written as DOCX by pandoc. With each, a
 * query read independently of Sluice's parsers (pdftotext for a PDF page, the HTML
 * source for the rest) and what its top hit must show. scripts/test installs the
 * packages when missing (as root).
 */
export interface RealFile {
  /** Its document id: its path in the folder. */
  id: string;
  /** A sentence of the document, as an independent reader sees it. */
  query: string;
  /** The page the sentence stands on (PDF), or undefined. */
  page?: number;
  /** A heading above the sentence (HTML, DOCX), or undefined. */
  heading?: string;
  /** The pages with text, as pdftotext reads the whole file (PDF), or undefined. */
  pagesWithText?: number[];
}

const R_MANUAL = '/usr/share/doc/r-doc-pdf/manual/R-data.pdf';
const PG_HTML = '/usr/share/doc/postgresql-doc-15/html';
/** The page whose sentence is searched: the introduction's prose. */
const PDF_PAGE = 7;

export function missingRealFiles(): string | undefined {
  const missing: string[] = [];
  if (!existsSync(R_MANUAL)) missing.push('r-doc-pdf');
  if (!existsSync(PG_HTML)) missing.push('postgresql-doc-15');
  const has = (tool: string) => {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  if (!has('pandoc')) missing.push('pandoc');
  if (!has('pdftotext')) missing.push('poppler-utils');
  return missing.length === 0
    ? undefined
    : `real documents are missing: apt-get install -y ${missing.join(' ')} (scripts/test does it as root)`;
}

/** The first sentence of 8 to 60 plain words in a text. */
function sentence(text: string): string {
  const flat = text.replace(/-\n/g, '').replace(/\s+/g, ' ');
  const found = flat
    .split(/(?<=\.)\s+/)
    .find((s) => /^[A-Za-z][A-Za-z ,()'.]+\.$/.test(s) && s.split(' ').length >= 8);
  if (!found) throw new Error(`no plain sentence in: ${flat.slice(0, 200)}`);
  return found.split(' ').slice(0, 60).join(' ');
}

/** The first paragraph under <h2>Description</h2> of a PostgreSQL reference page. */
function description(html: string): string {
  const p = /<h2>Description<\/h2>\s*<p>([\s\S]*?)<\/p>/.exec(html)?.[1];
  if (p === undefined) throw new Error('no Description section');
  return p
    .replace(/<[^>]+>/g, '')
    .replace(/&[a-z#0-9]+;/gi, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .split(' ')
    .slice(0, 40)
    .join(' ');
}

/** Makes the folder under a new temporary directory; returns it and its files. */
export function makeRealFolder(): { dir: string; files: RealFile[] } {
  const missing = missingRealFiles();
  if (missing) throw new Error(missing);
  const dir = mkdtempSync(join(tmpdir(), 'sluice-real-files-'));
  mkdirSync(join(dir, 'manual'));
  const pdf = join(dir, 'R-data.pdf');
  copyFileSync(R_MANUAL, pdf);
  const pageText = execFileSync(
    'pdftotext',
    ['-f', String(PDF_PAGE), '-l', String(PDF_PAGE), pdf, '-'],
    { encoding: 'utf8' },
  );
  // pdftotext ends every page with a form feed.
  const pagesWithText = execFileSync('pdftotext', [pdf, '-'], { encoding: 'utf8' })
    .split('\f')
    .flatMap((text, i) => (text.trim() === '' ? [] : [i + 1]));
  const files: RealFile[] = [
    { id: 'R-data.pdf', query: sentence(pageText), page: PDF_PAGE, pagesWithText },
  ];
  for (const [source, name] of [
    ['app-dropdb.html', 'manual/dropdb.html'],
    ['app-pg-isready.html', 'manual/pg_isready.html'],
  ] as const) {
    copyFileSync(join(PG_HTML, source), join(dir, name));
    files.push({
      id: name,
      query: description(readFileSync(join(PG_HTML, source), 'utf8')),
      heading: 'Description',
    });
  }
  const docx = join(dir, 'manual/pg_checksums.docx');
  execFileSync('pandoc', [
    '-f',
    'html',
    '-t',
    'docx',
    '-o',
    docx,
    join(PG_HTML, 'app-pgchecksums.html'),
  ]);
  files.push({
    id: 'manual/pg_checksums.docx',
    query: description(readFileSync(join(PG_HTML, 'app-pgchecksums.html'), 'utf8')),
    heading: 'Description',
  });
  return { dir, files };
}
