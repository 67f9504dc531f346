import type { Worker } from 'node:worker_threads';
import { SluiceError, type ErrorCode } from '../../errors/index.js';
import type { Logger } from '../../logger.js';
import { startWorker } from '../../worker-thread.js';
import type { ParseLimits, ParsedFile } from './parse-file.js';
import type { ParseReply, ParseRequest } from './parse-worker.js';

export interface FileParserOptions extends ParseLimits {
  /** Longest one file may take to parse (SLUICE_PARSE_TIMEOUT), in ms. */
  timeoutMs: number;
  /** Heap of the parsing thread (SLUICE_PARSE_MAX_MEMORY), in MiB. */
  maxMemoryMb: number;
}

/**
 * Parses files in a worker thread with a memory limit, one at a time. A file that runs
 * the worker out of memory or past the time limit fails with FILE_TOO_LARGE (permanent:
 * the same bytes would do it again); the worker is started afresh for the next file,
 * and the process, its event loop and /healthz never notice.
 */
export class FileParser {
  private worker: Worker | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private nextId = 0;
  private closed = false;

  constructor(
    private readonly o: FileParserOptions,
    private readonly logger?: Logger,
  ) {}

  parse(bytes: Uint8Array, mediaType: string | undefined): Promise<ParsedFile> {
    const run = this.queue.then(() => this.parseNow(bytes, mediaType));
    this.queue = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = undefined;
    await w?.terminate();
  }

  private spawn(): Worker {
    const { timeoutMs: _t, maxMemoryMb, ...limits } = this.o;
    const worker = startWorker(import.meta.url, './parse-worker', limits, {
      maxOldGenerationSizeMb: maxMemoryMb,
      maxYoungGenerationSizeMb: Math.max(16, Math.floor(maxMemoryMb / 8)),
    });
    worker.unref();
    return worker;
  }

  private parseNow(bytes: Uint8Array, mediaType: string | undefined): Promise<ParsedFile> {
    if (this.closed) return Promise.reject(new Error('the file parser is closed'));
    const worker = (this.worker ??= this.spawn());
    const id = this.nextId++;
    return new Promise<ParsedFile>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      const fail = (code: ErrorCode, message: string): void => {
        done();
        if (this.worker === worker) this.worker = undefined;
        void worker.terminate();
        reject(new SluiceError(code, message));
      };
      const onMessage = (m: ParseReply): void => {
        if (m.id !== id) return;
        done();
        if (m.type === 'parsed') resolve(m.file);
        else
          reject(
            new SluiceError(m.code as ErrorCode, m.message, {
              ...(m.details === undefined ? {} : { details: m.details as Record<string, unknown> }),
            }),
          );
      };
      const onError = (err: Error & { code?: string }): void => {
        this.logger?.warn({ err }, 'parsing worker failed; it starts again for the next file');
        if (err.code === 'ERR_WORKER_OUT_OF_MEMORY')
          fail(
            'FILE_TOO_LARGE',
            `parsing the file needed more than ${this.o.maxMemoryMb} MiB (SLUICE_PARSE_MAX_MEMORY)`,
          );
        else fail('PARSE_FAILED', `the parser crashed: ${err.message}`);
      };
      const onExit = (code: number): void =>
        fail('PARSE_FAILED', `the parsing worker exited (code ${code}) while parsing`);
      const timer = setTimeout(
        () =>
          fail(
            'FILE_TOO_LARGE',
            `parsing the file took longer than ${this.o.timeoutMs} ms (SLUICE_PARSE_TIMEOUT)`,
          ),
        this.o.timeoutMs,
      );
      worker.on('message', onMessage);
      worker.once('error', onError);
      worker.once('exit', onExit);
      worker.postMessage({
        id,
        bytes,
        ...(mediaType === undefined ? {} : { mediaType }),
      } satisfies ParseRequest);
    });
  }
}
