import type { Worker } from 'node:worker_threads';
import { SluiceError, errorCodes, isSluiceError, type ErrorCode } from '../errors/index.js';
import type { Logger } from '../logger.js';
import { startWorker } from '../worker-thread.js';
import type { WorkerReply, WorkerRequest } from './embed-worker.js';
import type { EmbedOptions, InferenceOptions } from './inference.js';
import type { ModelSpec } from './model-registry.js';

export interface EmbedderOptions extends InferenceOptions {
  logger?: Logger;
}

function asError(r: { code?: string; message: string }): Error {
  return r.code !== undefined && r.code in errorCodes
    ? new SluiceError(r.code as ErrorCode, r.message)
    : new Error(r.message);
}

/**
 * An embedding model served from a worker thread (see embed-worker.ts): the same
 * vectors as running it in place, without blocking the event loop of the process
 * that chunks, indexes and answers HTTP meanwhile. A worker that exits fails the
 * batches it held with WORKER_EXITED (retryable) and is started again for the next.
 */
export class Embedder {
  private readonly pending = new Map<
    number,
    { resolve: (v: Float32Array[]) => void; reject: (e: Error) => void }
  >();
  private nextId = 0;
  private closing: Promise<void> | undefined;
  private exited = false;
  private restarting: Promise<Worker> | undefined;
  /** Times the worker was started again after it exited. */
  restarts = 0;
  /** Requests that failed because the worker exited while it held them. */
  lostToExit = 0;

  private constructor(
    readonly spec: ModelSpec,
    readonly provider: 'cpu' | 'cuda',
    private worker: Worker,
    private readonly workerData: unknown,
    private readonly logger: Logger | undefined,
  ) {
    this.watch(worker);
  }

  private watch(worker: Worker): void {
    worker.on('message', (m: WorkerReply) => {
      if (m.type !== 'vectors' && m.type !== 'failed') return;
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.type === 'failed') return p?.reject(asError(m));
      const out: Float32Array[] = [];
      for (let i = 0; i < m.data.length; i += m.dimensions)
        out.push(m.data.subarray(i, i + m.dimensions));
      p?.resolve(out);
    });
    const failAll = (err: Error): void => {
      if (isSluiceError(err, 'WORKER_EXITED')) this.lostToExit += this.pending.size;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('error', (err) => {
      this.logger?.error({ err, model: this.spec.id }, 'embedding worker failed');
    });
    worker.on('exit', (code) => {
      if (worker !== this.worker) return;
      this.exited = true;
      if (this.closing === undefined)
        this.logger?.warn(
          { model: this.spec.id, code },
          'embedding worker exited; it starts again for the next batch',
        );
      failAll(
        new SluiceError(
          'WORKER_EXITED',
          `the embedding worker for ${this.spec.id} exited (code ${code}) with this batch; it is retried`,
        ),
      );
    });
  }

  /** Requests sent to the worker and not answered yet. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Whether the worker thread runs and takes work. */
  get alive(): boolean {
    return !this.exited && this.closing === undefined;
  }

  /** The worker's thread id (tests stop it to see a batch retried). */
  get threadId(): number {
    return this.worker.threadId;
  }

  /**
   * Makes the worker thread throw an uncaught error at its next turn (between two runs
   * of a batch in progress), as a bug in it would: the batches it holds fail with
   * WORKER_EXITED and the next call starts it again. For fault tests. (Terminating the
   * thread from outside while onnxruntime runs aborts the whole process instead.)
   */
  crashWorker(): void {
    this.worker.postMessage({ type: 'crash' } satisfies WorkerRequest);
  }

  /** Starts the worker again if it exited; rejects if it cannot start (the model's probe). */
  async ensureRunning(): Promise<void> {
    if (this.closing) throw new Error(`embedder for ${this.spec.id} is closed`);
    if (!this.exited) return;
    this.restarting ??= spawn(this.spec, this.workerData)
      .then(({ worker }) => {
        this.worker = worker;
        this.exited = false;
        this.restarts++;
        this.watch(worker);
        this.logger?.info({ model: this.spec.id }, 'embedding worker started again');
        return worker;
      })
      .finally(() => (this.restarting = undefined));
    await this.restarting;
  }

  static async load(spec: ModelSpec, options: EmbedderOptions = {}): Promise<Embedder> {
    const { logger, ...inference } = options;
    const workerData = { spec, options: inference };
    const { worker, ready } = await spawn(spec, workerData);
    if (ready.fallback !== undefined) {
      logger?.info(
        { model: spec.id, reason: ready.fallback },
        'CUDA execution provider unavailable; embedding on CPU',
      );
    }
    if (spec.dimensions !== 0 && spec.dimensions !== ready.dimensions) {
      logger?.warn(
        { model: spec.id, config: spec.dimensions, output: ready.dimensions },
        'config.json hidden_size differs from the output',
      );
    }
    const served = { ...spec, dimensions: ready.dimensions };
    logger?.info(
      {
        model: spec.id,
        provider: ready.provider,
        dimensions: ready.dimensions,
        maxTokens: spec.maxTokens,
      },
      'embedding model loaded',
    );
    return new Embedder(served, ready.provider, worker, workerData, logger);
  }

  /**
   * Vectors of the texts, L2-normalised, in order. A text longer than the model reads
   * fails with CHUNK_TOO_LONG unless `truncate` (queries) is set.
   */
  async embed(texts: string[], options: EmbedOptions = {}): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    if (this.closing) throw new Error(`embedder for ${this.spec.id} is closed`);
    await this.ensureRunning();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const req: WorkerRequest = { type: 'embed', id, texts, truncate: options.truncate ?? false };
      this.worker.postMessage(req);
    });
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.exited) return;
      const closed = new Promise<void>((resolve) => {
        this.worker.on('message', (m: WorkerReply) => m.type === 'closed' && resolve());
        this.worker.once('exit', () => resolve());
      });
      this.worker.postMessage({ type: 'close' } satisfies WorkerRequest);
      await closed;
      await this.worker.terminate();
    })();
    return this.closing;
  }
}

/** Starts a worker and waits for it to load the model. */
async function spawn(
  spec: ModelSpec,
  workerData: unknown,
): Promise<{ worker: Worker; ready: Extract<WorkerReply, { type: 'ready' }> }> {
  const worker = startWorker(import.meta.url, './embed-worker', workerData);
  const ready = await new Promise<Extract<WorkerReply, { type: 'ready' }>>((resolve, reject) => {
    const onMessage = (m: WorkerReply): void => {
      if (m.type === 'ready') resolve(m);
      else if (m.type === 'fatal') reject(asError(m));
      else return;
      worker.off('message', onMessage);
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
    worker.once('exit', (code) =>
      reject(
        new SluiceError(
          'WORKER_EXITED',
          `the embedding worker for ${spec.id} exited (code ${code}) while loading`,
        ),
      ),
    );
  }).catch(async (err: unknown) => {
    await worker.terminate();
    throw err;
  });
  return { worker, ready };
}
