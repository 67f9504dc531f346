import type { ErrorCode } from '../../errors/index.js';

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

/**
 * Splits a request body into events. A JSON object is one event; a JSON array (or a
 * CloudEvents batch) is a batch; NDJSON is one event per non-blank line, and a line
 * that is not JSON fails alone, naming its line number.
 */
export function parseIngestBody(format: IngestFormat, text: string): ParsedBody {
  if (format === 'ndjson') {
    const items: IngestItem[] = [];
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.trim();
      if (line === '') continue;
      try {
        items.push({ event: JSON.parse(line) });
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
    body = JSON.parse(text);
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
