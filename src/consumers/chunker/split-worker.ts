/**
 * The worker thread a Splitter runs in: it loads the chunking model's tokenizer and
 * splits documents, so a long text costs the chunker's process no event-loop time (the
 * NATS keepalives, acks and HTTP answers go on meanwhile).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { MimeType } from '../../contracts/index.js';
import { loadTokenizer } from '../../models/index.js';
import { splitDocument, type TextChunk } from './split.js';

export type SplitRequest = { id: number; text: string; mimeType: MimeType };
export type SplitReply =
  | { type: 'ready' }
  | { type: 'chunks'; id: number; chunks: TextChunk[] }
  | { type: 'failed'; id: number; message: string }
  | { type: 'fatal'; message: string };

export interface SplitWorkerData {
  tokenizerDir: string;
  maxTokens: number;
  overlapTokens: number;
}

const port = parentPort!;
const o = workerData as SplitWorkerData;
try {
  const tokenizer = await loadTokenizer({ dir: o.tokenizerDir });
  const countTokens = (t: string): number =>
    tokenizer.encode(t, { add_special_tokens: false }).length;
  port.on('message', (m: SplitRequest) => {
    let reply: SplitReply;
    try {
      const chunks = splitDocument(m.text, m.mimeType, {
        maxTokens: o.maxTokens,
        overlapTokens: o.overlapTokens,
        countTokens,
      });
      reply = { type: 'chunks', id: m.id, chunks };
    } catch (err) {
      reply = { type: 'failed', id: m.id, message: (err as Error).message };
    }
    port.postMessage(reply);
  });
  port.postMessage({ type: 'ready' } satisfies SplitReply);
} catch (err) {
  port.postMessage({ type: 'fatal', message: (err as Error).message } satisfies SplitReply);
}
