import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packVectors, type VectorsV1 } from '../../contracts/index.js';
import { createLogger } from '../../logger.js';
import { SluiceError } from '../../errors/index.js';
import { createTestDatabase, type TestDatabase } from '../../../test/harness/database.js';
import { getFusion, setFusion } from './fusion-store.js';
import { SelfCalibrator } from './self-calibrator.js';
import { VectorIndex } from './store.js';

// Two generated collections, each made so that one side of hybrid search is plainly the
// stronger: self-calibration must find which on its own, with no judged query.
//
// - "lexical": every sentence of a document repeats the document's own rare words; the
//   model embeds nothing useful (a vector from a hash of the text).
// - "semantic": every sentence of a document is about the document's topic, but in
//   words no other sentence uses (synonyms); the model maps each word to its topic.
const MODEL = 'gen@1';
const DIMS = 16;
const DOCS = 60;
const letters = (n: number): string =>
  n
    .toString(26)
    .split('')
    .map((c) => String.fromCharCode(97 + parseInt(c, 26)))
    .join('');
const FILLER = ['river', 'garden', 'window', 'market', 'silver', 'engine'];

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => ((s = Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0) / 2 ** 32;
}
const unit = (v: number[]): Float32Array => {
  const n = Math.sqrt(v.reduce((a, x) => a + x * x, 0)) || 1;
  return Float32Array.from(v, (x) => x / n);
};
const randomVector = (seed: number): number[] => {
  const r = rng(seed);
  return Array.from({ length: DIMS }, () => r() * 2 - 1);
};
const hashOf = (s: string): number =>
  [...s].reduce((h, c) => Math.imul(h ^ c.charCodeAt(0), 16777619), 2166136261);

/** Sentences of a document: lexical ones share the document's words, semantic ones do not. */
function sentencesOf(kind: 'lexical' | 'semantic', doc: number): string[] {
  const r = rng(doc + 1);
  const filler = (): string => FILLER[Math.floor(r() * FILLER.length)]!;
  return [0, 1, 2].map((s) => {
    const own =
      kind === 'lexical'
        ? [`zq${letters(doc)}a`, `zq${letters(doc)}b`, `zq${letters(doc)}c`]
        : [0, 1, 2].map((w) => `syn${letters(doc)}x${letters(s * 3 + w)}`);
    return `${[filler(), ...own, filler()].join(' ')}.`.replace(/^./, (c) => c.toUpperCase());
  });
}

/** The semantic model: a word's topic vector (synonyms of one topic share it). */
function semanticEmbed(texts: string[]): Promise<Float32Array[]> {
  return Promise.resolve(
    texts.map((t) => {
      const sum = new Array<number>(DIMS).fill(0);
      for (const w of t.toLowerCase().match(/[a-z]+/g) ?? []) {
        const m = /^syn([a-z]+)x/.exec(w);
        const v = randomVector(m ? hashOf(m[1]!) : hashOf(w));
        v.forEach((x, i) => (sum[i]! += m ? x : 0.1 * x));
      }
      return unit(sum);
    }),
  );
}
/** A model that knows nothing: the vector of a hash of the text. */
const noiseEmbed = (texts: string[]): Promise<Float32Array[]> =>
  Promise.resolve(texts.map((t) => unit(randomVector(hashOf(t)))));

let version = 0;
function part(collection: string, doc: number, text: string, vector: Float32Array): VectorsV1 {
  return {
    tenant: 't',
    collection,
    documentId: `d${doc}`,
    version: ++version,
    deleted: false,
    part: 0,
    parts: 1,
    chunkCount: 1,
    document: {},
    chunks: [
      {
        index: 0,
        id: `d${doc}-${version}`.padEnd(32, '0'),
        text,
        headings: [],
        hash: `${version}`.padStart(64, '0'),
        tokens: 20,
        start: 0,
        end: text.length,
      },
    ],
    model: MODEL,
    dimensions: DIMS,
    vectors: packVectors([vector], DIMS),
  };
}

async function load(
  index: VectorIndex,
  collection: string,
  kind: 'lexical' | 'semantic',
  docs: number,
  embed: (t: string[]) => Promise<Float32Array[]>,
): Promise<void> {
  const texts = Array.from({ length: docs }, (_, d) => sentencesOf(kind, d).join(' '));
  const vectors = await embed(texts);
  await index.apply(texts.map((t, d) => part(collection, d, t, vectors[d]!)));
}

describe('self-calibration: a fusion weight without judged queries', () => {
  let db: TestDatabase;
  const calibrator = (embed: (t: string[]) => Promise<Float32Array[]>) =>
    new SelfCalibrator({
      sql: db.sql,
      embedders: new Map([[MODEL, embed]]),
      logger: createLogger({ level: 'silent' }),
    });
  beforeAll(async () => {
    db = await createTestDatabase();
    const index = new VectorIndex(db.sql, undefined, false);
    await load(index, 'lexical', 'lexical', DOCS, noiseEmbed);
    await load(index, 'semantic', 'semantic', DOCS, semanticEmbed);
    await load(index, 'tiny', 'lexical', 5, noiseEmbed);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('picks keyword alone where only words find the held-out text', async () => {
    const { calibration, stored } = await calibrator(noiseEmbed).run({
      tenant: 't',
      collection: 'lexical',
      modelId: MODEL,
    });
    expect(stored).toBe(true);
    expect(calibration.queries).toBeGreaterThanOrEqual(30);
    expect(calibration.keyword).toBeGreaterThan(calibration.vector);
    expect(calibration.vectorWeight).toBe(0);
  });

  it('moves to vectors where only meaning does', async () => {
    const { calibration } = await calibrator(semanticEmbed).run({
      tenant: 't',
      collection: 'semantic',
      modelId: MODEL,
    });
    expect(calibration.vector).toBeGreaterThan(calibration.keyword);
    expect(calibration.vectorWeight).toBeGreaterThan(0.5);
    const stored = await getFusion(db.sql, 't', 'semantic', MODEL);
    expect(stored).toMatchObject({
      vectorWeight: calibration.vectorWeight,
      calibration: { source: 'self-calibrated', queries: calibration.queries, chunks: DOCS },
    });
  });

  it('never replaces a weight calibrated on judged queries', async () => {
    await setFusion(db.sql, { tenant: 't', collection: 'judged', modelId: MODEL }, 0.35, {
      split: 'train',
    });
    await load(
      new VectorIndex(db.sql, undefined, false),
      'judged',
      'semantic',
      DOCS,
      semanticEmbed,
    );
    const { stored } = await calibrator(semanticEmbed).run({
      tenant: 't',
      collection: 'judged',
      modelId: MODEL,
    });
    expect(stored).toBe(false);
    expect((await getFusion(db.sql, 't', 'judged', MODEL))?.vectorWeight).toBeCloseTo(0.35, 6);
  });

  it('says a collection is too small to calibrate, with a stable code', async () => {
    const err = await calibrator(noiseEmbed)
      .run({ tenant: 't', collection: 'tiny', modelId: MODEL })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SluiceError);
    expect((err as SluiceError).code).toBe('CALIBRATION_TOO_SMALL');
  });

  it('calibrates by itself a collection that has none, and skips what is not due', async () => {
    await load(new VectorIndex(db.sql, undefined, false), 'fresh', 'semantic', DOCS, semanticEmbed);
    const c = calibrator(semanticEmbed);
    await c.sweep();
    expect((await getFusion(db.sql, 't', 'fresh', MODEL))?.calibration).toMatchObject({
      source: 'self-calibrated',
      chunks: DOCS,
    });
    // Judged weights stay, small collections get none.
    expect((await getFusion(db.sql, 't', 'judged', MODEL))?.vectorWeight).toBeCloseTo(0.35, 6);
    expect(await getFusion(db.sql, 't', 'tiny', MODEL)).toBeUndefined();
  });
});
