import { MAX_JSON_DEPTH, nestedTooDeep } from '../../contracts/index.js';
import { SluiceError, type ErrorCode } from '../../errors/index.js';

export interface IngestItem {
  /** The parsed event, when this item could be parsed. */
  event?: unknown;
  /** Why this item could not be parsed. */
  error?: { code: ErrorCode; message: string; pointer?: string };
}

export interface ParsedBody {
  /** One event sent alone (not a batch): answered as such. */
  single: boolean;
  items: IngestItem[];
}

/** Content types POST /v1/events accepts. */
export const ingestContentTypes = {
  single: ['application/json', 'application/cloudevents+json'],
  batch: ['application/cloudevents-batch+json'],
  ndjson: ['application/x-ndjson', 'application/ndjson'],
};

export type IngestFormat = 'single' | 'batch' | 'ndjson';

export function formatOf(contentType: string | undefined): IngestFormat | undefined {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  for (const [format, types] of Object.entries(ingestContentTypes) as [IngestFormat, string[]][]) {
    if (types.includes(type)) return format;
  }
  return undefined;
}

function jsonError(message: string): IngestItem['error'] {
  return { code: 'JSON_INVALID', message, pointer: '' };
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The body as text. JSON is UTF-8 (RFC 8259): bytes that are not valid UTF-8 are
 * refused, not replaced with U+FFFD, which would store a text the client never sent.
 */
export function decodeBody(body: Buffer): string | IngestItem['error'] {
  try {
    return strictUtf8.decode(body);
  } catch {
    return jsonError('body is not valid UTF-8');
  }
}

/** JSON.parse, refusing nesting deeper than the contracts could need. */
function parseJson(text: string): unknown {
  if (nestedTooDeep(text))
    throw new Error(`it nests objects or arrays deeper than ${MAX_JSON_DEPTH} levels`);
  return JSON.parse(text);
}

/**
 * Splits a request body into events. A JSON object is one event; a JSON array (or a
 * CloudEvents batch) is a batch; NDJSON is one event per non-blank line, and a line
 * that is not JSON fails alone, naming its line number.
 */
export function parseIngestBody(
  format: IngestFormat,
  text: string,
  o: { maxEvents?: number } = {},
): ParsedBody {
  if (format === 'ndjson') {
    const items: IngestItem[] = [];
    const lines = text.split('\n');
    // Too many events is answered before any of them is parsed.
    const max = o.maxEvents ?? Infinity;
    let events = 0;
    for (const line of lines) if (line.trim() !== '' && ++events > max) tooMany(max, lines);
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.trim();
      if (line === '') continue;
      try {
        items.push({ event: parseJson(line) });
      } catch (err) {
        items.push({
          error: jsonError(`line ${i + 1} is not valid JSON: ${(err as Error).message}`),
        });
      }
    }
    return { single: false, items };
  }
  if (text.trim() === '') return { single: format === 'single', items: [] };
  let body: unknown;
  try {
    body = parseJson(text);
  } catch (err) {
    return {
      single: true,
      items: [{ error: jsonError(`body is not valid JSON: ${(err as Error).message}`) }],
    };
  }
  if (Array.isArray(body))
    return { single: false, items: (body as unknown[]).map((event) => ({ event })) };
  if (format === 'batch') {
    return {
      single: true,
      items: [
        {
          error: {
            code: 'REQUEST_INVALID',
            message: 'a CloudEvents batch must be a JSON array',
            pointer: '',
          },
        },
      ],
    };
  }
  return { single: true, items: [{ event: body }] };
}

function tooMany(max: number, lines: string[]): never {
  const events = lines.filter((l) => l.trim() !== '').length;
  throw new SluiceError(
    'BATCH_TOO_LARGE',
    `the request carries ${events} events; the limit is ${max} (SLUICE_INGEST_MAX_EVENTS): split it`,
    { details: { events, limit: max } },
  );
}
