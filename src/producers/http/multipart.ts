import { SluiceError } from '../../errors/index.js';

export interface FilePart {
  bytes: Buffer;
  mediaType?: string;
  filename?: string;
}

/**
 * The first file part of a multipart/form-data body (RFC 7578), as a browser's form
 * upload sends it. Only what an upload needs: a boundary, part headers, the bytes.
 */
export function firstFilePart(body: Buffer, contentType: string): FilePart {
  const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const b = boundary?.[1] ?? boundary?.[2];
  if (!b) throw new SluiceError('REQUEST_INVALID', 'multipart/form-data without a boundary');
  const delimiter = Buffer.from(`--${b}`);
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const headersStart = at + delimiter.length + 2;
    if (body.subarray(at + delimiter.length, at + delimiter.length + 2).toString() === '--') break;
    const headersEnd = body.indexOf('\r\n\r\n', headersStart);
    if (headersEnd < 0) break;
    const next = body.indexOf(Buffer.from(`\r\n--${b}`), headersEnd + 4);
    if (next < 0) break;
    const headers = body.subarray(headersStart, headersEnd).toString('utf8');
    const disposition = /content-disposition:([^\r\n]*)/i.exec(headers)?.[1] ?? '';
    const filename = /filename="([^"]*)"/i.exec(disposition)?.[1];
    if (filename !== undefined) {
      const mediaType = /content-type:\s*([^\r\n]*)/i.exec(headers)?.[1]?.trim();
      return {
        bytes: body.subarray(headersEnd + 4, next),
        filename,
        ...(mediaType ? { mediaType } : {}),
      };
    }
    at = next + 2;
  }
  throw new SluiceError('REQUEST_INVALID', 'the form carries no file part', {
    details: { pointer: '/body' },
  });
}
