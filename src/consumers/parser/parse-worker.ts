/**
 * The worker thread a FileParser runs in. Parsers of hostile formats allocate what the
 * file asks for; here that costs this thread's heap (resourceLimits), never the
 * process's, and a parse that runs too long is ended by terminating the thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isSluiceError } from '../../errors/index.js';
import { parseFile, type ParseLimits, type ParsedFile } from './parse-file.js';

export type ParseRequest = { id: number; bytes: Uint8Array; mediaType?: string };
export type ParseReply =
  | { type: 'parsed'; id: number; file: ParsedFile }
  | { type: 'failed'; id: number; code: string; message: string; details?: unknown };

const port = parentPort!;
const limits = workerData as ParseLimits;
port.on('message', (m: ParseRequest) => {
  parseFile(m.bytes, m.mediaType, limits).then(
    (file) => port.postMessage({ type: 'parsed', id: m.id, file } satisfies ParseReply),
    (err: unknown) => {
      const reply: ParseReply = isSluiceError(err)
        ? { type: 'failed', id: m.id, code: err.code, message: err.message, details: err.details }
        : {
            type: 'failed',
            id: m.id,
            code: 'PARSE_FAILED',
            message: String((err as Error).message ?? err),
          };
      port.postMessage(reply);
    },
  );
});
