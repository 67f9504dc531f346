import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VectorsV1 } from '../../contracts/index.js';
import { oneChunkPart } from '../../../test/harness/one-chunk-part.js';
import { search } from './search.js';
import { KeywordIndex, keywordTables } from './keyword-index.js';
import { VectorIndex } from './store.js';
import { createTestDatabase, type TestDatabase } from '../../../test/harness/database.js';

const MODEL = 'm@1';
let version = 0;

/** One document of one chunk, no title or headings: its words are exactly `text`. */
const doc = (tenant: string, documentId: string, text: string, deleted = false): VectorsV1 =>
  oneChunkPart({
    model: MODEL,
    tenant,
    collection: 'c',
    documentId,
    version: ++version,
    text,
    deleted,
  });

// BM25 as written in every textbook, k1 0.9, b 0.4, idf ln(1 + (N − df + ½)/(df + ½)).
const idf = (n: number, df: number): number => Math.log(1 + (n - df + 0.5) / (df + 0.5));
const weight = (tf: number, len: number, avg: number): number =>
  (tf * 1.9) / (tf + 0.9 * (0.6 + (0.4 * len) / avg));

describe('keyword index: BM25 statistics and scores', () => {
  let db: TestDatabase;
  let index: VectorIndex;
  beforeAll(async () => {
    db = await createTestDatabase();
    index = new VectorIndex(db.sql, undefined, false);
  });
  afterAll(async () => {
    await db?.drop();
  });

  const keyword = (tenant: string, terms: string[]) =>
    search(db.sql, {
      tenant,
      collection: 'c',
      modelId: MODEL,
      dimensions: 2,
      mode: 'keyword',
      terms,
      k: 10,
    });
  const stats = async (tenant: string) => {
    const [scope] = await db.sql<{ chunks: number; total_length: number }[]>`
      SELECT chunks::int, total_length::int FROM keyword_scopes WHERE tenant = ${tenant}`;
    const terms = await db.sql<{ term: string; df: number }[]>`
      SELECT k.term, k.df FROM keyword_terms k JOIN keyword_scopes s USING (scope)
      WHERE s.tenant = ${tenant} ORDER BY k.term`;
    return { scope, df: Object.fromEntries(terms.map((t) => [t.term, t.df])) };
  };

  it('scores a hand-checked corpus exactly', async () => {
    // english lexemes: appl ×2, banana (3 terms) | banana, cherri (2) | cherri ×3, date (4)
    await index.apply([
      doc('acme', 'd1', 'apple banana apple'),
      doc('acme', 'd2', 'banana cherry'),
      doc('acme', 'd3', 'cherry cherry cherry date'),
    ]);
    expect(await stats('acme')).toEqual({
      scope: { chunks: 3, total_length: 9 },
      df: { appl: 1, banana: 2, cherri: 2, date: 1 },
    });
    const hits = await keyword('acme', ['appl', 'cherri']);
    const expected = {
      d1: idf(3, 1) * weight(2, 3, 3),
      d3: idf(3, 2) * weight(3, 4, 3),
      d2: idf(3, 2) * weight(1, 2, 3),
    };
    expect(hits.map((h) => h.documentId)).toEqual(['d1', 'd3', 'd2']);
    for (const h of hits) expect(h.score).toBeCloseTo(expected[h.documentId as 'd1'], 6);
    expect(hits[0]!.text).toBe('apple banana apple');
  });

  it('moves statistics and postings on updates and deletions', async () => {
    await index.apply([doc('acme', 'd1', 'banana')]); // appl leaves the collection
    expect(await stats('acme')).toEqual({
      scope: { chunks: 3, total_length: 7 },
      df: { banana: 2, cherri: 2, date: 1 },
    });
    expect(await keyword('acme', ['appl'])).toEqual([]);
    await index.apply([doc('acme', 'd3', '', true)]);
    expect(await stats('acme')).toEqual({
      scope: { chunks: 2, total_length: 3 },
      df: { banana: 2, cherri: 1 },
    });
    const [only] = await keyword('acme', ['cherri']);
    expect(only!.documentId).toBe('d2');
    expect(only!.score).toBeCloseTo(idf(2, 1) * weight(1, 2, 1.5), 6);
    const [{ n }] = (await db.sql`
      SELECT count(*)::int AS n FROM keyword_postings p JOIN keyword_scopes s USING (scope)
      WHERE s.tenant = 'acme'`) as unknown as [{ n: number }];
    expect(n).toBe(3); // banana (d1), banana + cherri (d2)
  });

  it('keeps tenants apart: their own statistics, never the other’s chunks', async () => {
    await index.apply([doc('beta', 'd9', 'cherry pie'), doc('beta', 'd2', 'apple cherry')]);
    expect((await stats('beta')).df).toEqual({ appl: 1, cherri: 2, pie: 1 });
    expect((await stats('acme')).df).toEqual({ banana: 2, cherri: 1 });
    expect((await keyword('acme', ['pie', 'appl'])).map((h) => h.documentId)).toEqual([]);
    expect((await keyword('beta', ['cherri'])).map((h) => h.documentId).sort()).toEqual([
      'd2',
      'd9',
    ]);
  });

  it('is unchanged by a redelivered batch, and an emptied scope leaves nothing behind', async () => {
    const before = await stats('beta');
    const again = doc('beta', 'd9', 'cherry pie');
    await index.apply([again]);
    await index.apply([again]);
    expect(await stats('beta')).toEqual(before);
    await index.apply([doc('beta', 'd9', '', true), doc('beta', 'd2', '', true)]);
    expect(await stats('beta')).toEqual({ scope: undefined, df: {} });
  });

  it('rebuilds from the chunk rows exactly what adding them to empty tables gives', async () => {
    await index.apply([
      doc('gamma', 'g1', 'apple banana apple'),
      doc('gamma', 'g2', 'the and of'), // stop words only: no lexeme, no posting
      doc('gamma', 'g3', 'cherry cherry banana date'),
      doc('delta', 'g1', 'banana'),
    ]);
    await index.apply([doc('gamma', 'g3', 'cherry elderberry')]);
    const tables = async () => ({
      scopes: await db.sql`SELECT * FROM keyword_scopes ORDER BY scope`,
      terms: await db.sql`SELECT scope, term, df FROM keyword_terms ORDER BY scope, term`,
      postings: await db.sql`
        SELECT * FROM keyword_postings ORDER BY scope, term, document_id, chunk_index`,
    });
    const live = await tables();
    // The reference: every chunk row added, by the live path, to empty tables.
    await db.sql.begin(async (tx) => {
      await tx`TRUNCATE keyword_postings, keyword_terms, keyword_scopes`;
      await tx.unsafe(
        new KeywordIndex(keywordTables, 'index_chunks').addSql(
          'SELECT model_id, tenant, collection, document_id, chunk_index, tsv FROM index_chunks',
        ),
      );
    });
    const added = await tables();
    await index.rebuildKeywords();
    expect(await tables()).toEqual(added);
    // Against the tables kept live: the same postings, terms and statistics; only the
    // impacts differ, computed then with the average length of their time.
    const withoutImpacts = (t: typeof live) => ({
      scopes: t.scopes.map(({ impact_avg: _, ...r }) => r),
      terms: t.terms,
      postings: t.postings.map(({ impact: _, ...r }) => r),
    });
    expect(withoutImpacts(added)).toEqual(withoutImpacts(live));
  });
});
