import { env, pipeline } from '@huggingface/transformers';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../test/harness/log-sink.js';
import { RANDOM_MODEL, STATIC_MODEL, hasModel, testModelsDir } from '../../test/harness/models.js';
import { isSluiceError } from '../errors/index.js';
import { Embedder } from './embedder.js';
import { cudaLibraryMissing, type Provider } from './inference.js';
import { describeModel } from './model-registry.js';
import { cosine } from './pooling.js';

const texts = [
  'A man is eating food.',
  'A man is eating a piece of bread.',
  'A man is riding a horse.',
  'Alterations of the architecture of cerebral white matter in the developing human brain can affect cortical development and result in functional disabilities.',
  'x',
];

const models = [
  { name: RANDOM_MODEL, dtype: 'q8' as const },
  { name: STATIC_MODEL, dtype: 'fp32' as const },
].filter((m) => hasModel(m.name));

// The CUDA suite runs where the provider library is installed and a GPU is present.
const cudaAvailable = cudaLibraryMissing() === undefined && existsSync('/dev/nvidiactl');

describe.each(models)('Embedder on $name', ({ name, dtype }) => {
  let embedder: Embedder;
  beforeAll(async () => {
    embedder = await Embedder.load(await describeModel(testModelsDir(), name, dtype), {
      provider: 'cpu',
      threads: 2,
    });
  });
  afterAll(async () => embedder?.close());

  it('matches the transformers.js feature-extraction pipeline (cosine > 0.9999)', async () => {
    env.allowRemoteModels = false;
    env.localModelPath = `${testModelsDir()}/`;
    const reference = await pipeline('feature-extraction', name, { dtype });
    try {
      const ours = await embedder.embed(texts);
      for (const [i, t] of texts.entries()) {
        const ref = await reference(t, { pooling: 'mean', normalize: true });
        const c = cosine(ours[i]!, ref.data as Float32Array);
        expect(c, `text ${i}`).toBeGreaterThan(0.9999);
      }
    } finally {
      await reference.dispose();
    }
  });

  it('gives the same vector whatever the batch and its padding', async () => {
    const [alone] = await embedder.embed([texts[3]!]);
    const inBatch = await embedder.embed(texts);
    expect(cosine(alone!, inBatch[3]!)).toBeGreaterThan(0.9999);
  });

  it('knows its dimensions, limit and id', () => {
    expect(embedder.spec.dimensions).toBe(384);
    expect(embedder.spec.maxTokens).toBe(256);
    expect(embedder.spec.id).toMatch(new RegExp(`^${name}@[0-9a-f]{12}$`));
  });

  it('refuses a chunk longer than the model reads, and truncates a query when asked', async () => {
    const long = 'word '.repeat(400);
    let err: unknown;
    try {
      await embedder.embed([long]);
    } catch (e) {
      err = e;
    }
    expect(isSluiceError(err, 'CHUNK_TOO_LONG')).toBe(true);
    const [v] = await embedder.embed([long], { truncate: true });
    expect(v).toHaveLength(384);
  });
});

describe.runIf(hasModel(STATIC_MODEL))('semantic sanity of the static model', () => {
  it('ranks a paraphrase above an unrelated sentence, and pools unknown text to zero, not NaN', async () => {
    const e = await Embedder.load(await describeModel(testModelsDir(), STATIC_MODEL, 'fp32'), {
      provider: 'cpu',
    });
    try {
      const [a, b, c, unk] = await e.embed([texts[0]!, texts[1]!, texts[2]!, '']);
      expect(cosine(a!, b!)).toBeCloseTo(0.702, 2);
      expect(cosine(a!, b!)).toBeGreaterThan(cosine(a!, c!));
      expect(Array.from(unk!).every((x) => x === 0)).toBe(true);
      expect(e.alive).toBe(true);
    } finally {
      await e.close();
    }
    // /readyz asks this instead of queueing an embedding behind searches.
    expect(e.alive).toBe(false);
  });
});

describe('execution providers', () => {
  const load = async (provider: Provider) => {
    const { logger, lines } = memoryLogger();
    const spec = await describeModel(testModelsDir(), RANDOM_MODEL, 'q8');
    return { result: Embedder.load(spec, { provider, logger }), lines };
  };

  it.runIf(cudaLibraryMissing() !== undefined)(
    'auto falls back to CPU with one clear log line when CUDA is absent',
    async () => {
      const { result, lines } = await load('auto');
      const e = await result;
      expect(e.provider).toBe('cpu');
      const fallback = lines.filter((l) => /CUDA execution provider unavailable/.test(l.msg));
      expect(fallback).toHaveLength(1);
      expect(fallback[0]!.reason).toMatch(/libonnxruntime_providers_cuda.so is not installed/);
      await e.close();
    },
  );

  it.runIf(cudaLibraryMissing() !== undefined)(
    'cuda fails with EMBED_PROVIDER_UNAVAILABLE when CUDA is absent',
    async () => {
      const { result } = await load('cuda');
      await expect(result).rejects.toMatchObject({ code: 'EMBED_PROVIDER_UNAVAILABLE' });
    },
  );

  it.runIf(cudaAvailable)('cuda runs the model on the GPU and matches the CPU output', async () => {
    const spec = await describeModel(testModelsDir(), RANDOM_MODEL, 'q8');
    const gpu = await Embedder.load(spec, { provider: 'cuda' });
    const cpu = await Embedder.load({ ...spec }, { provider: 'cpu' });
    expect(gpu.provider).toBe('cuda');
    const [g, c] = [await gpu.embed(texts), await cpu.embed(texts)];
    texts.forEach((_, i) => expect(cosine(g[i]!, c[i]!)).toBeGreaterThan(0.999));
    await gpu.close();
    await cpu.close();
  });
});
