/** The formats the parser reads, by media type. */
export const fileMediaTypes = {
  pdf: 'application/pdf',
  html: 'text/html',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  markdown: 'text/markdown',
  text: 'text/plain',
} as const;

export type FileMediaType = (typeof fileMediaTypes)[keyof typeof fileMediaTypes];

const byExtension: Record<string, FileMediaType> = {
  pdf: fileMediaTypes.pdf,
  html: fileMediaTypes.html,
  htm: fileMediaTypes.html,
  xhtml: fileMediaTypes.html,
  docx: fileMediaTypes.docx,
  md: fileMediaTypes.markdown,
  markdown: fileMediaTypes.markdown,
  txt: fileMediaTypes.text,
  text: fileMediaTypes.text,
};

/** The media type a file name's extension suggests, if it is one the parser reads. */
export function mediaTypeOfName(name: string): FileMediaType | undefined {
  const ext = /\.([a-z0-9]+)$/i.exec(name)?.[1]?.toLowerCase();
  return ext === undefined ? undefined : byExtension[ext];
}

/** A media type as given in a Content-Type header, lower-cased and without parameters. */
export function essence(contentType: string | undefined): string | undefined {
  const e = contentType?.split(';')[0]?.trim().toLowerCase();
  return e === '' ? undefined : e;
}

const known = new Set<string>(Object.values(fileMediaTypes));

/** Whether a declared media type is one the parser reads (xhtml counts as HTML). */
export function readableMediaType(declared: string | undefined): FileMediaType | undefined {
  const e = essence(declared);
  if (e === 'application/xhtml+xml') return fileMediaTypes.html;
  return e !== undefined && known.has(e) ? (e as FileMediaType) : undefined;
}

const startsWith = (b: Uint8Array, magic: string): boolean =>
  b.length >= magic.length && [...magic].every((c, i) => b[i] === c.charCodeAt(0));

/**
 * What the bytes are, whatever the sender said: content sniffing by magic numbers and
 * markup. The bytes win over a declared type (a `content-type` can lie); a declared
 * type decides only between the text formats, which have no magic.
 */
export function sniff(bytes: Uint8Array, declared?: string): FileMediaType | 'binary' {
  // pdf.js accepts a header within the first KiB, as readers do.
  const head = Buffer.from(bytes.subarray(0, 1024)).toString('latin1');
  if (head.includes('%PDF-')) return fileMediaTypes.pdf;
  if (startsWith(bytes, 'PK\u0003\u0004')) {
    // An Office file names its main part in the zip's first entries.
    const names = Buffer.from(bytes.subarray(0, 64 * 1024)).toString('latin1');
    return names.includes('word/') ? fileMediaTypes.docx : 'binary';
  }
  const sample = bytes.subarray(0, 8192);
  // NUL bytes (or invalid UTF-8) mark a binary file; text formats never have them.
  if (sample.includes(0) || !isUtf8Prefix(sample)) return 'binary';
  const text = Buffer.from(sample).toString('utf8').trimStart().slice(0, 512).toLowerCase();
  const said = readableMediaType(declared);
  if (/^(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*(<!doctype html|<html|<head|<body)/.test(text))
    return fileMediaTypes.html;
  if (said === fileMediaTypes.html && text.startsWith('<')) return fileMediaTypes.html;
  if (said === fileMediaTypes.markdown) return fileMediaTypes.markdown;
  return fileMediaTypes.text;
}

/** Valid UTF-8, allowing a sequence cut at the end of the sample (its last character is dropped). */
function isUtf8Prefix(b: Uint8Array): boolean {
  let i = b.length;
  for (let k = 0; k < 3 && i > 0 && (b[i - 1]! & 0xc0) === 0x80; k++) i--;
  const end = i > 0 && b[i - 1]! >= 0xc0 ? i - 1 : b.length;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(0, end));
    return true;
  } catch {
    return false;
  }
}
