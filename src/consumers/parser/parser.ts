import type { DocumentParsedV1, SluiceEvent } from '../../contracts/index.js';
import { SluiceError, isSluiceError } from '../../errors/index.js';
import { claimCheckPrefix, type ClaimCheck } from '../../producers/index.js';
import type { DocRef, Subjects } from '../../topology/index.js';
import { inDelivery, type BatchHandler, type Delivery } from '../../runtime/index.js';
import { decodeDocumentEvent } from '../../runtime/index.js';
import type { PipelinePublisher } from '../../runtime/index.js';
import type { ParsedFile } from './parse-file.js';

export interface ParserOptions {
  subjects: Subjects;
  publisher: PipelinePublisher;
  /** The files bucket (raw bytes, as sent). */
  files: ClaimCheck;
  /** The bodies bucket, for a parsed text too large to travel inline. */
  bodies: ClaimCheck;
  parse: (bytes: Uint8Array, mediaType: string | undefined) => Promise<ParsedFile>;
  maxMessageBytes: number;
}

/**
 * The parser: a file event in, a parsed event out (markdown-shaped text, page map,
 * facts), on the parsed stream for the chunker. Every other event is the chunker's
 * alone. The bytes come from the files bucket through the event's claim check, pinned
 * to the document's tenant prefix and checked against size and SHA-256, so a replay of
 * the event log parses the very same bytes again.
 */
export function parserHandler(o: ParserOptions): BatchHandler {
  const handleOne = async (d: Delivery): Promise<void> => {
    let event: SluiceEvent;
    try {
      event = decodeDocumentEvent(d, o.subjects);
    } catch (err) {
      // An event that breaks its contract reaches every durable of the events stream; the
      // chunker dead-letters it, once. The parser passes over it.
      if (isSluiceError(err) && !err.retryable) return;
      throw err;
    }
    if (event.type !== 'sluice.document.file.v1') return;
    const data = event.data;
    const ref: DocRef = {
      tenant: data.tenant,
      collection: data.collection,
      documentId: data.documentId,
    };
    d.span.setAttribute('sluice.document.id', ref.documentId);
    const bytes = await o.files.getBytes(data.file, { prefix: claimCheckPrefix(ref) });
    const parsed = await o.parse(bytes, data.file.mediaType);
    d.span.setAttributes({
      'sluice.file.bytes': bytes.length,
      'sluice.file.pages': parsed.pages?.length ?? 0,
    });
    const title = data.title ?? parsed.facts.title;
    const out: Omit<DocumentParsedV1, 'text' | 'textRef'> = {
      ...ref,
      version: d.seq,
      ...(title === undefined ? {} : { title }),
      ...(data.uri === undefined ? {} : { uri: data.uri }),
      ...(data.metadata === undefined ? {} : { metadata: data.metadata }),
      mediaType: parsed.mediaType,
      ...(parsed.pages === undefined ? {} : { pages: parsed.pages }),
      ...(parsed.pagesWithoutText === undefined
        ? {}
        : { pagesWithoutText: parsed.pagesWithoutText }),
      facts: parsed.facts,
    };
    const inline = Buffer.byteLength(parsed.text, 'utf8') + JSON.stringify(out).length;
    let body: Pick<DocumentParsedV1, 'text' | 'textRef'>;
    if (inline < o.maxMessageBytes * 0.8) body = { text: parsed.text };
    else {
      const name = `${claimCheckPrefix(ref)}parsed-${d.seq}`;
      body = { textRef: await o.bodies.put(name, parsed.text) };
      if (JSON.stringify(out).length > o.maxMessageBytes * 0.8)
        throw new SluiceError(
          'FILE_TOO_LARGE',
          `the page map of ${parsed.pages?.length ?? 0} pages does not fit in one message (SLUICE_MAX_MESSAGE_BYTES)`,
        );
    }
    await o.publisher.event(
      o.subjects.parsed(ref),
      'sluice.document.parsed.v1',
      { ...out, ...body },
      `parsed:${d.seq}`,
    );
  };
  // One file at a time: parsing is CPU in one worker thread.
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
