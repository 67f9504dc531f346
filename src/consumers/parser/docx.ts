import JSZip from 'jszip';
import mammoth from 'mammoth';
import { SluiceError } from '../../errors/index.js';
import { parseHtml } from './html.js';
import type { DocumentFacts, ParsedText } from './parsed-text.js';

export interface DocxLimits {
  /** Most bytes the zip may unpack to, by its own directory (a zip bomb is refused before unpacking). */
  maxUnpackedBytes: number;
}

interface ZipEntry {
  _data?: { uncompressedSize?: number };
}

/**
 * A Word document with mammoth (semantic HTML: headings from the paragraph styles,
 * lists, tables), then the HTML path. The zip's directory is checked first: one that
 * says it unpacks to more than the limit is refused as FILE_TOO_LARGE; one that lies
 * about it is stopped by the worker's memory limit.
 */
export async function parseDocx(bytes: Uint8Array, limits: DocxLimits): Promise<ParsedText> {
  let zip: JSZip;
  try {
    zip = await JSZip.loadAsync(bytes);
  } catch (err) {
    throw new SluiceError(
      'PARSE_FAILED',
      `the DOCX is not a readable zip: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  let unpacked = 0;
  zip.forEach((_path, file) => {
    unpacked += (file as unknown as ZipEntry)._data?.uncompressedSize ?? 0;
  });
  if (unpacked > limits.maxUnpackedBytes) {
    throw new SluiceError(
      'FILE_TOO_LARGE',
      `the DOCX unpacks to ${unpacked} bytes; the limit is ${limits.maxUnpackedBytes} (a zip bomb?)`,
      { details: { unpackedBytes: unpacked, limit: limits.maxUnpackedBytes } },
    );
  }
  if (zip.file('word/document.xml') === null) {
    if (zip.file('EncryptedPackage') !== null)
      throw new SluiceError('FILE_ENCRYPTED', 'the DOCX is password-protected');
    throw new SluiceError('PARSE_FAILED', 'the zip has no word/document.xml: not a DOCX');
  }
  let html: string;
  try {
    html = (await mammoth.convertToHtml({ buffer: Buffer.from(bytes) })).value;
  } catch (err) {
    throw new SluiceError('PARSE_FAILED', `the DOCX cannot be read: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const parsed = await parseHtml(`<body>${html}</body>`);
  return { ...parsed, facts: await coreFacts(zip) };
}

/** Title, authors, language and dates from docProps/core.xml (Dublin Core). */
async function coreFacts(zip: JSZip): Promise<DocumentFacts> {
  const xml = await zip.file('docProps/core.xml')?.async('string');
  if (xml === undefined) return {};
  const tag = (name: string, max: number): string | undefined => {
    const m = new RegExp(`<${name}(?:\\s[^>]*)?>([^<]*)</${name}>`).exec(xml);
    const v = m?.[1]?.trim();
    return v ? decodeXml(v).slice(0, max) : undefined;
  };
  const facts: DocumentFacts = {};
  const title = tag('dc:title', 1024);
  const creator = tag('dc:creator', 256);
  const language = tag('dc:language', 32);
  const created = tag('dcterms:created', 64);
  const modified = tag('dcterms:modified', 64);
  if (title) facts.title = title;
  if (creator) facts.authors = [creator];
  if (language) facts.language = language;
  if (created) facts.created = created;
  if (modified) facts.modified = modified;
  return facts;
}

const decodeXml = (s: string): string =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
