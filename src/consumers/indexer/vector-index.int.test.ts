import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packVectors, type VectorsV1 } from '../../contracts/index.js';
import { VectorIndex, type ApplyOutcome } from './store.js';
import { checksum } from '../../../test/harness/checksums.js';
import { createTestDatabase, type TestDatabase } from '../../../test/harness/database.js';

const DIMS = 4;

function part(
  documentId: string,
  version: number,
  p: { part?: number; parts?: number; chunkCount: number; indexes: number[]; deleted?: boolean },
): VectorsV1 {
  const vectors = p.indexes.map((i) => new Float32Array([version, i, 1, 0.5]));
  return {
    tenant: 'acme',
    collection: 'c',
    documentId,
    version,
    deleted: p.deleted ?? false,
    part: p.part ?? 0,
    parts: p.parts ?? 1,
    chunkCount: p.chunkCount,
    document: { title: `${documentId} v${version}` },
    chunks: p.indexes.map((index) => ({
      index,
      id: `${documentId}-${version}-${index}`.padEnd(32, '0'),
      text: `text of ${documentId} v${version} #${index}`,
      headings: [],
      hash: `${version}${index}`.padStart(64, '0'),
      tokens: 5,
      start: 0,
      end: 10,
    })),
    model: 'm@1',
    dimensions: DIMS,
    vectors: packVectors(vectors, DIMS),
  };
}

/**
 * The index applies a batch with a few statements, fencing each part in memory. Its
 * result must be what applying the parts one at a time, in the same order, gives.
 */
describe('vector index: a batch applies like its parts one by one', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  const parts: VectorsV1[] = [
    // d1: two parts of v5, then v7 shrinks it to two chunks.
    part('d1', 5, { part: 0, parts: 2, chunkCount: 4, indexes: [0, 1] }),
    part('d1', 5, { part: 1, parts: 2, chunkCount: 4, indexes: [2, 3] }),
    part('d1', 7, { part: 0, parts: 2, chunkCount: 2, indexes: [0] }),
    part('d1', 7, { part: 1, parts: 2, chunkCount: 2, indexes: [1] }),
    // d2: deleted at v4; a late v3 cannot bring it back.
    part('d2', 3, { chunkCount: 3, indexes: [0, 1, 2] }),
    part('d2', 4, { chunkCount: 0, indexes: [], deleted: true }),
    part('d2', 3, { chunkCount: 3, indexes: [0, 1, 2] }),
    // d3: v9, then an older v8 changes nothing.
    part('d3', 9, { chunkCount: 2, indexes: [0, 1] }),
    part('d3', 8, { chunkCount: 5, indexes: [0, 1, 2, 3, 4] }),
    // d4: its second part first.
    part('d4', 2, { part: 1, parts: 2, chunkCount: 3, indexes: [2] }),
    part('d4', 2, { part: 0, parts: 2, chunkCount: 3, indexes: [0, 1] }),
    // d5: the same part twice (a redelivery).
    part('d5', 1, { chunkCount: 1, indexes: [0] }),
    part('d5', 1, { chunkCount: 1, indexes: [0] }),
  ];
  const sums = async () => ({
    documents: await checksum(db.sql, 'index_documents'),
    chunks: await checksum(db.sql, 'index_chunks'),
    scopes: await checksum(db.sql, 'keyword_scopes'),
    terms: await checksum(db.sql, 'keyword_terms'),
    postings: await checksum(db.sql, 'keyword_postings'),
  });
  const reset = () =>
    db.sql`TRUNCATE index_documents, index_chunks, keyword_scopes, keyword_terms, keyword_postings`;

  it('ends with the same rows and outcomes, whatever the batch looks like', async () => {
    const index = new VectorIndex(db.sql, undefined, false);
    // The batch sorts by document and version; one by one in that order is the reference.
    const sorted = [...parts].sort(
      (a, b) => a.documentId.localeCompare(b.documentId) || a.version - b.version,
    );
    const one: ApplyOutcome[] = [];
    for (const p of sorted) one.push(...(await index.apply([p])));
    const reference = await sums();
    const rows = await db.sql<{ document_id: string; chunk_index: number; version: string }[]>`
      SELECT document_id, chunk_index, version FROM index_chunks ORDER BY document_id, chunk_index`;
    // Spelled out once, so that the reference itself is checked.
    expect(rows.map((r) => `${r.document_id}:${r.chunk_index}@${r.version}`)).toEqual([
      'd1:0@7',
      'd1:1@7',
      'd3:0@9',
      'd3:1@9',
      'd4:0@2',
      'd4:1@2',
      'd4:2@2',
      'd5:0@1',
    ]);

    await reset();
    const batch = await index.apply(sorted);
    expect(await sums()).toEqual(reference);
    expect(batch).toEqual(one);

    // Shuffled: the index orders a batch itself.
    await reset();
    const shuffled = [...parts].reverse();
    const outcomes = await index.apply(shuffled);
    expect(await sums()).toEqual(reference);
    expect(outcomes).toEqual(shuffled.map((p) => one[sorted.indexOf(p)]));

    // Applied again, everything is stale or the same: nothing changes.
    await index.apply(shuffled);
    expect(await sums()).toEqual(reference);
  });

  it('keeps each vector in its row, not in the TOAST table, beside a long text', async () => {
    await reset();
    const dims = 384;
    const p = part('long', 1, { chunkCount: 1, indexes: [0] });
    // A chunk's worth of words: its text and tsvector take the row over the 2 kB at
    // which PostgreSQL moves values out of line.
    const text = Array.from({ length: 300 }, (_, i) => `term${(i * 7919) % 997}x`).join(' ');
    const vector = Float32Array.from({ length: dims }, (_, i) => Math.sin(i));
    await new VectorIndex(db.sql, undefined, false).apply([
      {
        ...p,
        dimensions: dims,
        chunks: p.chunks.map((c) => ({ ...c, text })),
        vectors: packVectors([vector], dims),
      },
    ]);
    const [row] = await db.sql<{ vector: string | null; text: string | null }[]>`
      SELECT pg_column_toast_chunk_id(embedding)::text AS vector,
             coalesce(pg_column_toast_chunk_id(text), pg_column_toast_chunk_id(tsv))::text AS text
      FROM index_chunks`;
    // The text went out of line; the vector, which every exact scan reads, stayed.
    expect(row).toEqual({ vector: null, text: expect.any(String) });
  });
});
