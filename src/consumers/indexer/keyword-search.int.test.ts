import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VectorsV1 } from '../../contracts/index.js';
import { oneChunkPart, rng } from '../../../test/harness/one-chunk-part.js';
import { createTestDatabase, type TestDatabase } from '../../../test/harness/database.js';
import { impactSql } from './keyword-index.js';
import { keywordSearch, type KeywordQuery } from './keyword-search.js';
import { VectorIndex } from './store.js';

// The early-stopping keyword search must return exactly what scoring every posting
// returns. The collection is made to be hard for it: a Zipf vocabulary (a few terms in
// almost every chunk), many chunks that are exact copies (ties at every impact level),
// and lengths that grow as it is loaded, so the average length rises after most impacts
// were written (stored impacts then understate today's weights: the bound must allow it).
const MODEL = 'gen@1';
const DOCS = 700;

const letters = (n: number): string =>
  n
    .toString(26)
    .split('')
    .map((c) => String.fromCharCode(97 + parseInt(c, 26)))
    .join('');
const VOCAB = Array.from({ length: 400 }, (_, i) => `zq${letters(i)}`);
const zipf = (r: () => number): string => VOCAB[Math.floor(VOCAB.length ** r()) - 1]!;

let version = 0;
const part = (documentId: string, text: string, topic: string): VectorsV1 =>
  oneChunkPart({
    model: MODEL,
    tenant: 't',
    collection: 'c',
    documentId,
    version: ++version,
    text,
    metadata: { topic },
  });

describe('keyword search stops early and stays exact', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
    const index = new VectorIndex(db.sql, undefined, false);
    const r = rng(7);
    const texts: string[] = [];
    for (let i = 0; i < DOCS; i++) {
      // Every third chunk copies the one before it; lengths grow from 2 to ~150 words.
      if (i % 3 === 2) texts.push(texts[i - 1]!);
      else
        texts.push(
          Array.from({ length: 2 + Math.floor((i / DOCS) * 150 * r()) }, () => zipf(r)).join(' '),
        );
    }
    // A second collection without drift: lengths 30–40 words throughout.
    const flat = Array.from({ length: 600 }, () =>
      Array.from({ length: 30 + Math.floor(r() * 10) }, () => zipf(r)).join(' '),
    );
    for (let i = 0; i < flat.length; i += 100)
      await index.apply(
        flat
          .slice(i, i + 100)
          .map((t, j) => ({ ...part(`f${i + j}`, t, 'flat'), collection: 'flat' })),
      );
    for (let i = 0; i < DOCS; i += 50)
      await index.apply(
        texts
          .slice(i, i + 50)
          .map((t, j) =>
            part(`d${i + j}`, t, (i + j) % 100 === 0 ? 'rare' : (i + j) % 2 ? 'odd' : 'even'),
          ),
      );
  });
  afterAll(async () => {
    await db?.drop();
  });

  /** Every posting of the terms scored: the reference. */
  async function exhaustive(q: KeywordQuery, k: number): Promise<number[]> {
    const meta = q.filter?.metadata
      ? `AND EXISTS (SELECT 1 FROM index_chunks m WHERE m.model_id = '${MODEL}' AND m.tenant = 't'
           AND m.collection = 'c' AND m.document_id = x.document_id AND m.chunk_index = x.chunk_index
           AND m.metadata @> '${JSON.stringify(q.filter.metadata)}'::jsonb)`
      : '';
    const rows = await db.sql.unsafe<{ score: number }[]>(
      `WITH s AS (SELECT scope, chunks::float8 AS n, total_length::float8 / greatest(chunks, 1) AS avg
                  FROM keyword_scopes WHERE model_id = '${MODEL}' AND tenant = 't' AND collection = 'c'),
       w AS (SELECT s.scope, s.avg, k.term, ln(1 + (s.n - k.df + 0.5) / (k.df + 0.5)) AS idf
             FROM s JOIN keyword_terms k ON k.scope = s.scope WHERE k.term = ANY($1::text[]))
       SELECT sum(w.idf * ${impactSql('x.tf', 'x.length', 'w.avg')}) AS score
       FROM w JOIN keyword_postings x ON x.scope = w.scope AND x.term = w.term
       WHERE true ${meta}
       GROUP BY x.document_id, x.chunk_index ORDER BY score DESC LIMIT ${k}`,
      [q.terms] as never[],
    );
    return rows.map((r) => Number(r.score));
  }

  const lexemes = async (words: string[]): Promise<string[]> =>
    (
      await db.sql<
        { l: string }[]
      >`SELECT lexeme AS l FROM unnest(to_tsvector('english', ${words.join(' ')}))`
    ).map((r) => r.l);

  it('returns the exhaustive top k on every query, frequent and rare terms, deep and shallow', async () => {
    const r = rng(11);
    let multiRound = 0;
    for (let n = 0; n < 24; n++) {
      const words = Array.from({ length: 1 + Math.floor(r() * 5) }, () =>
        r() < 0.5 ? VOCAB[Math.floor(r() * 6)]! : zipf(r),
      );
      const q: KeywordQuery = {
        tenant: 't',
        collection: 'c',
        modelId: MODEL,
        terms: await lexemes(words),
        depth: 1 + Math.floor(r() * 40),
      };
      for (const k of [1, 10, 100]) {
        const { hits, stats } = await keywordSearch(db.sql, q, k, { exhaustiveMax: 0 });
        if (stats.rounds > 1) multiRound++;
        const want = await exhaustive(q, k);
        expect(want.length).toBeGreaterThan(0);
        expect(hits.length).toBe(want.length);
        hits.forEach((h, i) => expect(h.score).toBeCloseTo(want[i]!, 9));
      }
    }
    // The shallow first rounds must have made it stop early sometimes and go deeper others.
    expect(multiRound).toBeGreaterThan(0);
  });

  it('stops before reading every posting of a frequent term', async () => {
    const terms = await lexemes([VOCAB[0]!]);
    const [{ n }] = (await db.sql`
      SELECT k.df AS n FROM keyword_terms k JOIN keyword_scopes s USING (scope)
      WHERE s.collection = 'flat' AND k.term = ${terms[0]!}`) as unknown as [{ n: number }];
    const q: KeywordQuery = { tenant: 't', collection: 'flat', modelId: MODEL, terms, depth: 20 };
    // A list longer than exhaustiveMax: the whole-list statement declines, the rounds run.
    const { hits, stats } = await keywordSearch(db.sql, q, 10, { exhaustiveMax: n - 1 });
    expect(stats.plan).toBe('postings');
    // Read and looked up together, still fewer than the list holds.
    expect(stats.postings).toBeLessThan(n);
    const [{ score }] = (await db.sql.unsafe(
      `WITH s AS (SELECT scope, chunks::float8 AS n, total_length::float8 / greatest(chunks, 1) AS avg
                  FROM keyword_scopes WHERE collection = 'flat'),
       w AS (SELECT s.scope, s.avg, ln(1 + (s.n - k.df + 0.5) / (k.df + 0.5)) AS idf
             FROM s JOIN keyword_terms k ON k.scope = s.scope WHERE k.term = $1)
       SELECT max(w.idf * ${impactSql('x.tf', 'x.length', 'w.avg')}) AS score
       FROM w JOIN keyword_postings x ON x.scope = w.scope AND x.term = $1`,
      [terms[0]!] as never[],
    )) as unknown as [{ score: number }];
    expect(hits[0]!.score).toBeCloseTo(Number(score), 9);
  });

  it.each([
    ['a filter matching 1%', 'rare', 'filter-first'],
    ['a filter matching half', 'odd', 'postings'],
  ])('with %s: exact (topic %s, plan %s)', async (_, topic, plan) => {
    const terms = await lexemes([VOCAB[0]!, VOCAB[3]!, VOCAB[50]!]);
    const q: KeywordQuery = {
      tenant: 't',
      collection: 'c',
      modelId: MODEL,
      terms,
      filter: { metadata: { topic } },
      depth: 10,
    };
    // 50% of 700 is 350 chunks: under FILTER_FIRST_MAX, so force the lists by a tiny limit.
    const { hits, stats } = await keywordSearch(
      db.sql,
      q,
      10,
      plan === 'postings' ? { filterFirstMax: 100, exhaustiveMax: 0 } : {},
    );
    expect(stats.plan).toBe(plan);
    const want = await exhaustive(q, 10);
    expect(want.length).toBeGreaterThan(0);
    expect(hits.length).toBe(want.length);
    hits.forEach((h, i) => expect(h.score).toBeCloseTo(want[i]!, 9));
  });
  it('scores short lists whole: the same top k, with a filter or without', async () => {
    const terms = await lexemes([VOCAB[0]!, VOCAB[3]!, VOCAB[50]!]);
    for (const filter of [undefined, { metadata: { topic: 'odd' } }]) {
      const q: KeywordQuery = {
        tenant: 't',
        collection: 'c',
        modelId: MODEL,
        terms,
        ...(filter ? { filter } : {}),
      };
      const { hits, stats } = await keywordSearch(db.sql, q, 10, { filterFirstMax: 0 });
      expect(stats.plan).toBe('exhaustive');
      const want = await exhaustive(q, 10);
      expect(hits.length).toBe(want.length);
      hits.forEach((h, i) => expect(h.score).toBeCloseTo(want[i]!, 9));
    }
  });
});
