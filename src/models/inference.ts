import { AutoTokenizer, env, type PreTrainedTokenizer } from '@huggingface/transformers';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { usableCores } from '../cores.js';
import { SluiceError } from '../errors/index.js';
import type { ModelSpec } from './model-registry.js';
import { meanPoolNormalize } from './pooling.js';

export type Provider = 'auto' | 'cpu' | 'cuda';

export interface InferenceOptions {
  /** @defaultValue 'auto' */
  provider?: Provider;
  /** onnxruntime intra-op threads; 0 or absent: one per core. */
  threads?: number;
  /** Texts per onnxruntime run. @defaultValue 8 */
  batchSize?: number;
  /**
   * Whether idle intra-op threads spin (onnxruntime's default) or sleep. Spinning saves
   * a thread's wake-up in each operator: a one-query embedding with minilm-l6-random took
   * 1.1–1.4 ms at p50 spinning, 1.7–1.9 ms sleeping. Sleeping leaves the cores to the
   * rest of the process between operators, which is what a stage embedding batches
   * beside the chunker, the indexer, NATS and PostgreSQL wants (bench:pipeline: 0.67 of
   * bare onnxruntime spinning, 0.72–0.74 sleeping). @defaultValue true
   */
  spin?: boolean;
}

export interface EmbedOptions {
  /** Cut texts longer than the model reads (queries) instead of refusing them (chunks). */
  truncate?: boolean;
}

/** Loads a tokenizer from a model folder, never from the network. */
export async function loadTokenizer(spec: Pick<ModelSpec, 'dir'>): Promise<PreTrainedTokenizer> {
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = `${dirname(spec.dir)}/`;
  return AutoTokenizer.from_pretrained(spec.dir.slice(dirname(spec.dir).length + 1));
}

/**
 * Why the CUDA provider cannot load, when that is plain from the files: onnxruntime-node
 * ships it separately (its install script fetches it; .npmrc skips that offline).
 */
export function cudaLibraryMissing(): string | undefined {
  const pkg = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
  const lib = join(
    pkg,
    'bin/napi-v6',
    process.platform,
    process.arch,
    'libonnxruntime_providers_cuda.so',
  );
  return existsSync(lib)
    ? undefined
    : `${lib} is not installed (ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js)`;
}

/** onnxruntime colours its messages with ANSI escapes. */
function stripAnsi(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;]*m/g, '');
}

interface Session {
  session: ort.InferenceSession;
  provider: 'cpu' | 'cuda';
  /** Why auto did not get CUDA. */
  fallback?: string;
}

async function createSession(spec: ModelSpec, o: InferenceOptions): Promise<Session> {
  const base: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: o.threads || usableCores(),
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    extra: { session: { intra_op: { allow_spinning: o.spin === false ? '0' : '1' } } },
  };

  const provider = o.provider ?? 'auto';
  let fallback: string | undefined;
  if (provider !== 'cpu') {
    fallback = cudaLibraryMissing();
    if (fallback === undefined) {
      try {
        // Severity 4 (fatal only): a CUDA failure is reported once, by us.
        const session = await ort.InferenceSession.create(spec.file, {
          ...base,
          logSeverityLevel: 4,
          executionProviders: ['cuda'],
        });
        return { session, provider: 'cuda' };
      } catch (err) {
        fallback = stripAnsi((err as Error).message.split('\n')[0] ?? '').slice(0, 300);
      }
    }
    if (provider === 'cuda') {
      throw new SluiceError(
        'EMBED_PROVIDER_UNAVAILABLE',
        `CUDA execution provider unavailable: ${fallback}`,
      );
    }
  }
  const session = await ort.InferenceSession.create(spec.file, {
    ...base,
    executionProviders: ['cpu'],
  });
  return { session, provider: 'cpu', ...(fallback === undefined ? {} : { fallback }) };
}

/**
 * One embedding model on onnxruntime-node, in the calling thread: tokenise with the
 * model's own tokenizer, run in length-sorted batches, mean-pool over the attention
 * mask and L2-normalise (what the transformers.js feature-extraction pipeline does,
 * without its overhead). onnxruntime-node's run() is synchronous on the caller's
 * thread, so Sluice drives this from a worker thread (see Embedder).
 */
export class Inference {
  private constructor(
    readonly spec: ModelSpec,
    readonly provider: 'cpu' | 'cuda',
    readonly fallback: string | undefined,
    private readonly session: ort.InferenceSession,
    readonly tokenizer: PreTrainedTokenizer,
    private readonly batchSize: number,
  ) {}

  static async load(spec: ModelSpec, options: InferenceOptions = {}): Promise<Inference> {
    const tokenizer = await loadTokenizer(spec);
    const s = await createSession(spec, options);
    const inference = new Inference(
      { ...spec },
      s.provider,
      s.fallback,
      s.session,
      tokenizer,
      options.batchSize ?? 8,
    );
    // One probe run: learns the output width and warms the session up.
    const [probe] = await inference.embed(['probe']);
    inference.spec.dimensions = probe!.length;
    return inference;
  }

  async embed(texts: string[], options: EmbedOptions = {}): Promise<Float32Array[]> {
    const max = this.spec.maxTokens;
    const encoded = texts.map((t, i) => {
      let ids = this.tokenizer.encode(t);
      if (ids.length > max) {
        if (!options.truncate) {
          throw new SluiceError(
            'CHUNK_TOO_LONG',
            `text ${i} has ${ids.length} tokens; ${this.spec.id} reads at most ${max}`,
          );
        }
        ids = [...ids.slice(0, max - 1), ids[ids.length - 1]!];
      }
      return { i, ids };
    });
    // Sorting by length keeps padding, and so wasted compute, small in every batch.
    encoded.sort((a, b) => a.ids.length - b.ids.length);
    const out = new Array<Float32Array>(texts.length);
    for (let s = 0; s < encoded.length; s += this.batchSize) {
      const batch = encoded.slice(s, s + this.batchSize);
      const vectors = await this.run(batch.map((b) => b.ids));
      batch.forEach((b, j) => (out[b.i] = vectors[j]!));
    }
    return out;
  }

  private async run(rows: number[][]): Promise<Float32Array[]> {
    const B = rows.length;
    const L = Math.max(...rows.map((r) => r.length));
    const ids = new BigInt64Array(B * L);
    const mask = new BigInt64Array(B * L);
    rows.forEach((r, b) => {
      for (let t = 0; t < r.length; t++) {
        ids[b * L + t] = BigInt(r[t]!);
        mask[b * L + t] = 1n;
      }
    });
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', ids, [B, L]),
      attention_mask: new ort.Tensor('int64', mask, [B, L]),
    };
    if (this.session.inputNames.includes('token_type_ids')) {
      feeds.token_type_ids = new ort.Tensor('int64', new BigInt64Array(B * L), [B, L]);
    }
    const result = await this.session.run(feeds);
    const hidden = result[this.session.outputNames[0]!]!;
    const [, seq, dim] = hidden.dims as number[];
    return meanPoolNormalize(hidden.data as Float32Array, mask, B, seq!, dim!);
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
