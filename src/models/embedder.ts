import type { Worker } from 'node:worker_threads';
import { SluiceError, errorCodes, type ErrorCode } from '../errors/index.js';
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
 * that chunks, indexes and answers HTTP meanwhile.
 */
export class Embedder {
  private readonly pending = new Map<
    number,
    { resolve: (v: Float32Array[]) => void; reject: (e: Error) => void }
  >();
  private nextId = 0;
  private closing: Promise<void> | undefined;
  private exited = false;

  private constructor(
    readonly spec: ModelSpec,
    readonly provider: 'cpu' | 'cuda',
    private readonly worker: Worker,
  ) {
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
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('error', failAll);
    worker.on('exit', () => {
      this.exited = true;
      failAll(new Error(`embedding worker for ${spec.id} exited`));
    });
  }

  /** Whether the worker thread runs and takes work. */
  get alive(): boolean {
    return !this.exited && this.closing === undefined;
  }

  static async load(spec: ModelSpec, options: EmbedderOptions = {}): Promise<Embedder> {
    const { logger, ...inference } = options;
    const worker = startWorker(import.meta.url, './embed-worker', { spec, options: inference });
    const ready = await new Promise<Extract<WorkerReply, { type: 'ready' }>>((resolve, reject) => {
      const onMessage = (m: WorkerReply): void => {
        if (m.type === 'ready') resolve(m);
        else if (m.type === 'fatal') reject(asError(m));
        else return;
        worker.off('message', onMessage);
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
    }).catch(async (err: unknown) => {
      await worker.terminate();
      throw err;
    });
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
    return new Embedder(served, ready.provider, worker);
  }

  /**
   * Vectors of the texts, L2-normalised, in order. A text longer than the model reads
   * fails with CHUNK_TOO_LONG unless `truncate` (queries) is set.
   */
  embed(texts: string[], options: EmbedOptions = {}): Promise<Float32Array[]> {
    if (texts.length === 0) return Promise.resolve([]);
    if (this.closing) return Promise.reject(new Error(`embedder for ${this.spec.id} is closed`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const req: WorkerRequest = { type: 'embed', id, texts, truncate: options.truncate ?? false };
      this.worker.postMessage(req);
    });
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
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
