import { createHash } from 'node:crypto';
import {
  unstorable,
  type Chunk,
  type ChunksV1,
  type DocumentInfo,
  type MimeType,
} from '../../contracts/index.js';
import { SluiceError } from '../../errors/index.js';
import type { Logger } from '../../logger.js';
import { claimCheckPrefix, type ClaimCheck } from '../../producers/sdk/index.js';
import type { DocRef, Subjects } from '../../topology/index.js';
import { inDelivery, type BatchHandler, type Delivery } from '../../runtime/consumer.js';
import { decodeDocumentEvent } from '../../runtime/decode.js';
import type { PipelinePublisher } from '../../runtime/publisher.js';
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
 * the chunks stream drops.
 */
export function chunkerHandler(o: ChunkerOptions): BatchHandler {
  const handleOne = async (d: Delivery): Promise<void> => {
    const event = decodeDocumentEvent(d, o.subjects);
    const version = d.seq;
    const ref: DocRef = {
      tenant: event.data.tenant,
      collection: event.data.collection,
      documentId: event.data.documentId,
    };
    const base = { ...ref, version };
    d.span.setAttribute('sluice.document.id', ref.documentId);
    if (event.type === 'sluice.document.deleted.v1') {
      const tombstone: ChunksV1 = {
        ...base,
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
    const data = event.data;
    const text =
      data.text ?? (await o.claimCheck.get(data.textRef!, { prefix: claimCheckPrefix(data) }));
    // An inline text was checked with its event; a claim-checked body is checked here.
    const bad = data.textRef ? unstorable(text, '/data/text') : undefined;
    if (bad)
      throw new SluiceError('EVENT_INVALID', `claim-checked /data/text ${bad.message}`, {
        details: { pointer: bad.pointer, issues: [bad] },
      });
    const pieces = await o.split(text, data.mimeType ?? 'text/plain');
    const chunks: Chunk[] = pieces.map((p, index) => ({
      index,
      id: chunkId(ref, index),
      text: p.text,
      headings: p.headings,
      hash: sha256(p.embedText),
      tokens: p.tokens,
      start: p.start,
      end: p.end,
    }));
    const document: DocumentInfo = {
      ...(data.title === undefined ? {} : { title: data.title }),
      ...(data.uri === undefined ? {} : { uri: data.uri }),
      ...(data.metadata === undefined ? {} : { metadata: data.metadata }),
    };
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
      },
      `status:chunked:${version}`,
    );
  };
  // Documents are chunked one after another (CPU); their publishes overlap.
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
