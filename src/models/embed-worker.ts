/**
 * The worker thread an Embedder runs its model in. onnxruntime-node computes on the
 * calling thread; here that thread is this one, so the process's event loop (NATS,
 * PostgreSQL, HTTP) keeps going while a batch is embedded.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isSluiceError } from '../errors/index.js';
import { Inference, type InferenceOptions } from './inference.js';
import type { ModelSpec } from './model-registry.js';

export type WorkerRequest =
  | { type: 'embed'; id: number; texts: string[]; truncate: boolean }
  | { type: 'close' }
  /** Fault tests: throw an uncaught error at the next turn of this thread's loop. */
  | { type: 'crash' };

export type WorkerReply =
  | { type: 'ready'; provider: 'cpu' | 'cuda'; dimensions: number; fallback?: string }
  | { type: 'vectors'; id: number; data: Float32Array; dimensions: number }
  | { type: 'failed'; id: number; code?: string; message: string }
  | { type: 'fatal'; code?: string; message: string }
  | { type: 'closed' };

const port = parentPort!;
const { spec, options } = workerData as { spec: ModelSpec; options: InferenceOptions };
const post = (m: WorkerReply, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

try {
  const inference = await Inference.load(spec, options);
  post({
    type: 'ready',
    provider: inference.provider,
    dimensions: inference.spec.dimensions,
    ...(inference.fallback === undefined ? {} : { fallback: inference.fallback }),
  });
  // One request at a time: two runs on one session would oversubscribe its threads.
  let queue = Promise.resolve();
  port.on('message', (m: WorkerRequest) => {
    if (m.type === 'crash') {
      // Not queued: it lands between two runs of a batch in progress.
      setImmediate(() => {
        throw new Error('crash injected by a fault test');
      });
      return;
    }
    queue = queue.then(async () => {
      if (m.type === 'close') {
        await inference.close();
        post({ type: 'closed' });
        return;
      }
      try {
        const vectors = await inference.embed(m.texts, { truncate: m.truncate });
        const dims = inference.spec.dimensions;
        const flat = new Float32Array(vectors.length * dims);
        vectors.forEach((v, i) => flat.set(v, i * dims));
        post({ type: 'vectors', id: m.id, data: flat, dimensions: dims }, [flat.buffer]);
      } catch (err) {
        post({
          type: 'failed',
          id: m.id,
          ...(isSluiceError(err) ? { code: err.code } : {}),
          message: (err as Error).message,
        });
      }
    });
  });
} catch (err) {
  post({
    type: 'fatal',
    ...(isSluiceError(err) ? { code: err.code } : {}),
    message: (err as Error).message,
  });
}
