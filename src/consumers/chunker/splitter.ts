import type { Worker } from 'node:worker_threads';
import type { MimeType } from '../../contracts/index.js';
import { SluiceError } from '../../errors/index.js';
import type { Logger } from '../../logger.js';
import { startWorker } from '../../worker-thread.js';
import type { SplitReply, SplitWorkerData } from './split-worker.js';
import type { TextChunk } from './split.js';

/**
 * Splits documents in a worker thread (split-worker.ts), one at a time in order. A
 * worker that exits fails the document in hand with WORKER_EXITED (retryable) and is
 * started again for the next one.
 */
export class Splitter {
  private worker: Promise<Worker> | undefined;
  private readonly pending = new Map<
    number,
    { resolve: (c: TextChunk[]) => void; reject: (e: Error) => void }
  >();
  private nextId = 0;
  private closed = false;

  constructor(
    private readonly data: SplitWorkerData,
    private readonly logger?: Logger,
  ) {}

  /** Starts the worker now (otherwise the first split does), failing if it cannot. */
  async start(): Promise<void> {
    await this.ensure();
  }

  split(text: string, mimeType: MimeType): Promise<TextChunk[]> {
    if (this.closed) return Promise.reject(new Error('the splitter is closed'));
    return this.ensure().then(
      (worker) =>
        new Promise<TextChunk[]>((resolve, reject) => {
          const id = this.nextId++;
          this.pending.set(id, { resolve, reject });
          worker.postMessage({ id, text, mimeType });
        }),
    );
  }

  /** The worker's thread id, for tests that stop it to see the chunker recover. */
  async threadId(): Promise<number> {
    return (await this.ensure()).threadId;
  }

  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = undefined;
    if (w) await (await w.catch(() => undefined))?.terminate();
  }

  private ensure(): Promise<Worker> {
    this.worker ??= this.spawn().catch((err: unknown) => {
      this.worker = undefined;
      throw err;
    });
    return this.worker;
  }

  private spawn(): Promise<Worker> {
    const worker = startWorker(import.meta.url, './split-worker', this.data);
    return new Promise<Worker>((resolve, reject) => {
      worker.on('message', (m: SplitReply) => {
        if (m.type === 'ready') return resolve(worker);
        if (m.type === 'fatal') return reject(new Error(`chunking worker: ${m.message}`));
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (m.type === 'chunks') p?.resolve(m.chunks);
        else p?.reject(new Error(m.message));
      });
      worker.once('error', (err) => {
        this.logger?.error({ err }, 'chunking worker failed');
        reject(err);
      });
      worker.once('exit', (code) => {
        if (this.worker !== undefined) this.worker = undefined;
        if (this.closed && this.pending.size === 0) return;
        if (!this.closed)
          this.logger?.warn(
            { code },
            'chunking worker exited; it starts again for the next document',
          );
        const err = new SluiceError(
          'WORKER_EXITED',
          `the chunking worker exited (code ${code}) while splitting; the document is retried`,
        );
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
        reject(err);
      });
    });
  }
}
