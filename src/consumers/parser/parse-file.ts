import { SluiceError } from '../../errors/index.js';
import { parseDocx } from './docx.js';
import { parseHtml } from './html.js';
import type { ParsedText } from './parsed-text.js';
import { parsePdf } from './pdf.js';
import { fileMediaTypes, sniff, type FileMediaType } from '../../contracts/index.js';

export interface ParseLimits {
  /** Most pages of a paged document (SLUICE_PARSE_MAX_PAGES). */
  maxPages: number;
  /** Most bytes a zipped format may unpack to. */
  maxUnpackedBytes: number;
}

export interface ParsedFile extends ParsedText {
  /** What the bytes turned out to be (content sniffing; the declared type can lie). */
  mediaType: FileMediaType;
}

/** Parses a raw document of any supported format into markdown-shaped text. */
export async function parseFile(
  bytes: Uint8Array,
  declared: string | undefined,
  limits: ParseLimits,
): Promise<ParsedFile> {
  if (bytes.length === 0) throw new SluiceError('FILE_EMPTY', 'the file has no bytes');
  const mediaType = sniff(bytes, declared);
  if (mediaType === 'binary') {
    throw new SluiceError(
      'MEDIA_TYPE_UNSUPPORTED',
      `the file is binary and not a PDF or DOCX (declared ${declared ?? 'nothing'}); Sluice reads ${Object.values(fileMediaTypes).join(', ')}`,
    );
  }
  switch (mediaType) {
    case fileMediaTypes.pdf:
      return { mediaType, ...(await parsePdf(bytes, limits)) };
    case fileMediaTypes.docx:
      return { mediaType, ...(await parseDocx(bytes, limits)) };
    case fileMediaTypes.html:
      return { mediaType, ...(await parseHtml(utf8(bytes))) };
    default:
      return { mediaType, text: utf8(bytes).replace(/^\uFEFF/, ''), facts: {} };
  }
}

function utf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (err) {
    throw new SluiceError('PARSE_FAILED', 'the file is not valid UTF-8 text', { cause: err });
  }
}
