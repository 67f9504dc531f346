import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VectorsV1 } from '../../contracts/index.js';
import { oneChunkPart, rng } from '../../../test/harness/one-chunk-part.js';
import { createTestDatabase, type TestDatabase } from '../../../test/harness/database.js';
import { KeywordMemory } from './keyword-memory.js';
import { keywordSearch, type KeywordHit, type KeywordQuery } from './keyword-search.js';
import { VectorIndex } from './store.js';

// Lists held in memory must answer exactly what PostgreSQL answers from the same rows,
// after any write, within any budget: each query below is asked of both.
const MODEL = 'mem@1';

const VOCAB = Array.from(
  { length: 300 },
  (_, i) => `zm${i.toString(26).replace(/\d/g, (d) => 'qrstuvwxyz'[+d]!)}`,
);
const zipf = (r: () => number): string => VOCAB[Math.floor(VOCAB.length ** r()) - 1]!;

let version = 0;
const part = (
  collection: string,
  documentId: string,
  text: string,
  topic: string,
  deleted = false,
): VectorsV1 =>
  oneChunkPart({
    model: MODEL,
    tenant: 't',
    collection,
    documentId,
    version: ++version,
    text,
    deleted,
    metadata: { topic },
  });

describe('keyword lists in memory', () => {
  let db: TestDatabase;
  let index: VectorIndex;
  const r = rng(5);
  const text = (): string =>
    Array.from({ length: 2 + Math.floor(r() * 80) }, () => zipf(r)).join(' ');

  beforeAll(async () => {
    db = await createTestDatabase();
    index = new VectorIndex(db.sql, undefined, false);
    for (const collection of ['a', 'b'])
      for (let i = 0; i < 400; i += 100)
        await index.apply(
          Array.from({ length: 100 }, (_, j) =>
            part(
              collection,
              `d${i + j}`,
              text(),
              (i + j) % 50 === 0 ? 'rare' : (i + j) % 2 ? 'odd' : 'even',
            ),
          ),
        );
  });
  afterAll(async () => {
    await db?.drop();
  });

  const lexemes = async (words: string[]): Promise<string[]> =>
    (
      await db.sql<
        { l: string }[]
      >`SELECT lexeme AS l FROM unnest(to_tsvector('english', ${words.join(' ')}))`
    ).map((x) => x.l);

  const query = async (
    collection: string | undefined,
    filter?: KeywordQuery['filter'],
  ): Promise<KeywordQuery> => ({
    tenant: 't',
    ...(collection === undefined ? {} : { collection }),
    modelId: MODEL,
    terms: await lexemes(
      Array.from({ length: 1 + Math.floor(r() * 5) }, () =>
        r() < 0.4 ? VOCAB[Math.floor(r() * 5)]! : zipf(r),
      ),
    ),
    ...(filter ? { filter } : {}),
  });

  /** The same scores at every rank, and the same chunks wherever a score is not tied. */
  function expectSame(got: KeywordHit[], want: KeywordHit[]): void {
    expect(got.map((h) => h.score)).toHaveLength(want.length);
    got.forEach((h, i) => expect(h.score).toBeCloseTo(want[i]!.score, 9));
    const clear = (hs: KeywordHit[]): string[] => {
      const last = hs.at(-1)?.score ?? 0;
      return hs
        .filter((h) => h.score > last + 1e-9)
        .map((h) => `${h.collection}/${h.document_id}/${h.chunk_index}`)
        .sort();
    };
    expect(clear(got)).toEqual(clear(want));
  }

  async function both(
    memory: KeywordMemory,
    q: KeywordQuery,
    k: number,
    filterFirstMax = 0,
  ): Promise<Awaited<ReturnType<typeof keywordSearch>>> {
    // filterFirstMax 0: a metadata filter is tested on ranked candidates; more: the
    // filter's chunks are found first and only those are ranked.
    const got = await keywordSearch(db.sql, q, k, { memory, filterFirstMax });
    const want = await keywordSearch(db.sql, q, k, { filterFirstMax: 0 });
    // The reference is SQL: whole lists, or the chunks of a filter matching none.
    expect(['exhaustive', 'filter-first']).toContain(want.stats.plan);
    expectSame(got.hits, want.hits);
    return got;
  }

  it('answers as PostgreSQL does: any k, one collection or all, with filters', async () => {
    const memory = new KeywordMemory(64 * 1024 ** 2);
    const filters: (KeywordQuery['filter'] | undefined)[] = [
      undefined,
      { metadata: { topic: 'odd' } },
      { metadata: { topic: 'rare' } },
      { documentIds: ['d1', 'd2', 'd3', 'd10', 'd399', 'nope'] },
    ];
    let memoryAnswered = 0;
    for (let n = 0; n < 16; n++)
      for (const filter of filters) {
        const q = await query(n % 4 === 0 ? undefined : n % 2 ? 'a' : 'b', filter);
        for (const k of [1, 10, 100]) {
          const { hits, stats } = await both(memory, q, k);
          if (stats.plan === 'memory') memoryAnswered++;
          if (filter?.documentIds)
            for (const h of hits) expect(filter.documentIds).toContain(h.document_id);
        }
      }
    expect(memoryAnswered).toBe(16 * filters.length * 3);
    expect(memory.size).toBeGreaterThan(0);
  });

  it("answers filters of every width: candidates tested, or the filter's chunks found first", async () => {
    const memory = new KeywordMemory(64 * 1024 ** 2);
    const ways = new Set<string>();
    for (let n = 0; n < 12; n++)
      for (const topic of ['rare', 'odd', 'none-such']) {
        const q = await query(n % 3 === 0 ? undefined : 'a', { metadata: { topic } });
        for (const k of [1, 10]) {
          const { stats } = await both(memory, q, k, 5000);
          expect(stats.plan).toBe('memory');
          // One round: the filter's chunks found first; more: candidates tested.
          ways.add(stats.rounds === 1 ? 'found first' : 'tested');
        }
      }
    expect([...ways].sort()).toEqual(['found first', 'tested']);
  });

  it('loads each list once, then answers from memory', async () => {
    const memory = new KeywordMemory(64 * 1024 ** 2);
    const q = await query('a');
    const first = await both(memory, q, 10);
    expect(first.stats.loaded).toBeGreaterThan(0);
    expect(first.stats.loaded).toBe(first.stats.postings);
    const again = await both(memory, q, 10);
    expect(again.stats.loaded).toBe(0);
    // Many at once, nothing held yet: the same answers.
    const cold = new KeywordMemory(64 * 1024 ** 2);
    const qs = await Promise.all(Array.from({ length: 12 }, () => query('b')));
    const got = await Promise.all(qs.map((x) => keywordSearch(db.sql, x, 10, { memory: cold })));
    for (const [i, x] of qs.entries())
      expectSame(got[i]!.hits, (await keywordSearch(db.sql, x, 10)).hits);
  });

  it('sees every write: new, changed and deleted chunks', async () => {
    const memory = new KeywordMemory(64 * 1024 ** 2);
    const qs = await Promise.all(Array.from({ length: 10 }, () => query('a')));
    for (const q of qs) await both(memory, q, 10);
    // Change a quarter of the collection: new texts, deletions, new documents.
    const writes: VectorsV1[] = [];
    for (let i = 0; i < 400; i += 4) writes.push(part('a', `d${i}`, text(), 'odd'));
    for (let i = 1; i < 400; i += 16) writes.push(part('a', `d${i}`, '', 'odd', true));
    for (let i = 0; i < 50; i++) writes.push(part('a', `new${i}`, text(), 'even'));
    await index.apply(writes);
    let reloaded = 0;
    for (const q of qs) {
      const { stats } = await both(memory, q, 10);
      expect(stats.plan).toBe('memory');
      reloaded += stats.loaded ?? 0;
    }
    expect(reloaded).toBeGreaterThan(0);
    // The frequent terms' lists must have been loaded again, whatever the queries were.
    const frequent = await lexemes([VOCAB[0]!]);
    const { stats } = await both(
      memory,
      { tenant: 't', collection: 'a', modelId: MODEL, terms: frequent },
      10,
    );
    expect(stats.postings).toBeGreaterThan(0);
  });

  it('keeps within its budget, and leaves to SQL a list larger than a quarter of it', async () => {
    const budget = 160 * 1024;
    const memory = new KeywordMemory(budget);
    let fromMemory = 0;
    for (let n = 0; n < 30; n++) {
      const q = await query(n % 2 ? 'a' : 'b');
      const { stats } = await both(memory, q, 10);
      if (stats.plan === 'memory') fromMemory++;
      expect(memory.bytes).toBeLessThanOrEqual(budget);
    }
    expect(fromMemory).toBeGreaterThan(0);
    const tiny = new KeywordMemory(1024);
    const frequent = await lexemes([VOCAB[0]!]);
    const { stats } = await both(
      tiny,
      { tenant: 't', collection: 'a', modelId: MODEL, terms: frequent },
      10,
    );
    expect(stats.plan).toBe('exhaustive');
    expect(tiny.size).toBe(0);
    // Budget 0: never used.
    const off = await both(
      new KeywordMemory(0),
      { tenant: 't', collection: 'a', modelId: MODEL, terms: frequent },
      10,
    );
    expect(off.stats.plan).toBe('exhaustive');
  });
});
