import { createHash } from 'node:crypto';
import {
  unstorable,
  type Chunk,
  type ChunksV1,
  type DocumentInfo,
  type DocumentParsedV1,
  type MimeType,
  type PageSpan,
  type TextRef,
} from '../../contracts/index.js';
import { SluiceError } from '../../errors/index.js';
import type { Logger } from '../../logger.js';
import { claimCheckPrefix, type ClaimCheck } from '../../producers/index.js';
import type { DocRef, Subjects } from '../../topology/index.js';
import { inDelivery, type BatchHandler, type Delivery } from '../../runtime/index.js';
import { decodeDocumentEvent, decodePipelineEvent } from '../../runtime/index.js';
import type { PipelinePublisher } from '../../runtime/index.js';
import type { TextChunk } from './split.js';

export interface ChunkerOptions {
  subjects: Subjects;
  publisher: PipelinePublisher;
  claimCheck: ClaimCheck;
  /** Splits a text into chunks (splitDocument, in a worker thread: see Splitter). */
  split: (text: string, mimeType: MimeType) => Promise<TextChunk[]>;
  /** Largest message the chunks (and later their vectors) may make. */
  maxMessageBytes: number;
  logger: Logger;
}

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

/** Stable per position: a new version's chunk i replaces the old chunk i. */
export function chunkId(ref: DocRef, index: number): string {
  return sha256(`${ref.tenant}\u0000${ref.collection}\u0000${ref.documentId}\u0000${index}`).slice(
    0,
    32,
  );
}

/**
 * Bytes a chunk will take in a vectors event: its JSON plus room for the widest vector
 * we expect (1,536 float32 as base64), so that a part of chunks still fits in one
 * message once the embedder adds vectors.
 */
function budgetOf(c: Chunk): number {
  return JSON.stringify(c).length + Math.ceil((1536 * 4 * 4) / 3) + 16;
}

/** Splits chunks into parts that each fit in a message. */
export function partition(chunks: Chunk[], maxBytes: number): Chunk[][] {
  const parts: Chunk[][] = [];
  let part: Chunk[] = [];
  let size = 0;
  for (const c of chunks) {
    const b = budgetOf(c);
    if (part.length > 0 && size + b > maxBytes) {
      parts.push(part);
      part = [];
      size = 0;
    }
    part.push(c);
    size += b;
  }
  if (part.length > 0 || parts.length === 0) parts.push(part);
  return parts;
}

/**
 * The chunker: a document event in, chunk events out (one or more parts), plus a
 * "chunked" status. A deletion becomes a tombstone chunks event so that every later
 * stage, and a replay of any of their streams, sees it in order. Output ids derive
 * from the event-log sequence, so a redelivered event re-publishes duplicates that
 * the chunks stream drops. A file event is the parser's: the chunker reads its text
 * from the parsed stream (parsedChunkerHandler), and its chunked status carries the
 * facts the parser found (title, language, authors, dates) to the documents read model.
 */
export function chunkerHandler(o: ChunkerOptions): BatchHandler {
  return eachDocument(async (d) => {
    const event = decodeDocumentEvent(d, o.subjects);
    const version = d.seq;
    const ref: DocRef = {
      tenant: event.data.tenant,
      collection: event.data.collection,
      documentId: event.data.documentId,
    };
    d.span.setAttribute('sluice.document.id', ref.documentId);
    if (event.type === 'sluice.document.deleted.v1') {
      const tombstone: ChunksV1 = {
        ...ref,
        version,
        deleted: true,
        part: 0,
        parts: 1,
        chunkCount: 0,
        document: {},
        chunks: [],
      };
      await o.publisher.event(
        o.subjects.chunks(ref),
        'sluice.chunks.v1',
        tombstone,
        `chunks:${version}:0`,
      );
      return;
    }
    // A raw file reaches the chunker through the parser (the parsed stream).
    if (event.type === 'sluice.document.file.v1') return;
    const data = event.data;
    const text = await bodyText(o, data);
    await chunkDocument(o, d, {
      ref,
      version,
      text,
      mimeType: data.mimeType ?? 'text/plain',
      document: documentInfo(data),
    });
  });
}

/**
 * The chunker's second durable: files the parser turned into text. The version is the
 * file event's, so a parsed file and a later text upsert of the same document are
 * ordered by the event log, whichever stream delivers first.
 */
export function parsedChunkerHandler(o: ChunkerOptions): BatchHandler {
  return eachDocument(async (d) => {
    const data = decodePipelineEvent(d, o.subjects, 'sluice.document.parsed.v1').data;
    const ref: DocRef = {
      tenant: data.tenant,
      collection: data.collection,
      documentId: data.documentId,
    };
    d.span.setAttribute('sluice.document.id', ref.documentId);
    const text = await bodyText(o, data);
    await chunkDocument(o, d, {
      ref,
      version: data.version,
      text,
      mimeType: 'text/markdown',
      document: documentInfo(data),
      ...(data.pages === undefined ? {} : { pages: data.pages }),
      // Carried to the documents read model on the chunked status (a file with none: none).
      ...(Object.keys(data.facts).length === 0 ? {} : { facts: data.facts }),
    });
  });
}

/** Documents are chunked one after another (CPU); their publishes overlap. */
function eachDocument(handleOne: (d: Delivery) => Promise<void>): BatchHandler {
  return async (batch) => {
    const results: unknown[] = [];
    for (const d of batch) {
      try {
        await inDelivery(d, () => handleOne(d));
        results.push(undefined);
      } catch (err) {
        results.push(err);
      }
    }
    return results;
  };
}

interface Body {
  tenant: string;
  collection: string;
  documentId: string;
  text?: string;
  textRef?: TextRef;
}

/** The text inline, or from its claim check (checked here, as the inline text was on ingest). */
async function bodyText(o: ChunkerOptions, data: Body): Promise<string> {
  if (data.text !== undefined) return data.text;
  const text = await o.claimCheck.get(data.textRef!, { prefix: claimCheckPrefix(data) });
  const bad = unstorable(text, '/data/text');
  if (bad)
    throw new SluiceError('EVENT_INVALID', `claim-checked /data/text ${bad.message}`, {
      details: { pointer: bad.pointer, issues: [bad] },
    });
  return text;
}

function documentInfo(data: {
  title?: string | undefined;
  uri?: string | undefined;
  metadata?: DocumentInfo['metadata'];
}): DocumentInfo {
  return {
    ...(data.title === undefined ? {} : { title: data.title }),
    ...(data.uri === undefined ? {} : { uri: data.uri }),
    ...(data.metadata === undefined ? {} : { metadata: data.metadata }),
  };
}

/** Pages whose span overlaps [start, end), ascending (at most 64). */
export function pagesOf(pages: PageSpan[], start: number, end: number): number[] {
  // Binary search for the first page that ends after start.
  let lo = 0;
  let hi = pages.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (pages[mid]!.end <= start) lo = mid + 1;
    else hi = mid;
  }
  const out: number[] = [];
  for (let i = lo; i < pages.length && pages[i]!.start < end && out.length < 64; i++) {
    if (pages[i]!.end > pages[i]!.start) out.push(pages[i]!.page);
  }
  return out;
}

interface ChunkInput {
  ref: DocRef;
  version: number;
  text: string;
  mimeType: MimeType;
  document: DocumentInfo;
  pages?: PageSpan[];
  facts?: DocumentParsedV1['facts'];
}

async function chunkDocument(o: ChunkerOptions, d: Delivery, input: ChunkInput): Promise<void> {
  const { ref, version, document } = input;
  const base = { ...ref, version };
  const pieces = await o.split(input.text, input.mimeType);
  const chunks: Chunk[] = pieces.map((p, index) => ({
    index,
    id: chunkId(ref, index),
    text: p.text,
    headings: p.headings,
    hash: sha256(p.embedText),
    tokens: p.tokens,
    start: p.start,
    end: p.end,
    ...(input.pages === undefined ? {} : { pages: pagesOf(input.pages, p.start, p.end) }),
  }));
  d.span.setAttributes({
    'sluice.chunk.count': chunks.length,
    'sluice.token.count': chunks.reduce((n, c) => n + c.tokens, 0),
  });
  const budget = Math.floor(o.maxMessageBytes * 0.9) - JSON.stringify(document).length - 1024;
  const parts = partition(chunks, budget);
  await Promise.all(
    parts.map((part, i) =>
      o.publisher.event(
        o.subjects.chunks(ref),
        'sluice.chunks.v1',
        {
          ...base,
          deleted: false,
          part: i,
          parts: parts.length,
          chunkCount: chunks.length,
          document,
          chunks: part,
        },
        `chunks:${version}:${i}`,
      ),
    ),
  );
  await o.publisher.event(
    o.subjects.status(ref),
    'sluice.document.status.v1',
    {
      ...base,
      stage: 'chunked',
      at: new Date().toISOString(),
      parts: parts.length,
      chunkCount: chunks.length,
      ...(input.facts === undefined ? {} : { facts: input.facts }),
    },
    `status:chunked:${version}`,
  );
}
