import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectionModels, coverage } from '../../api/active-models.js';
import { packVectors, type VectorsV1 } from '../../contracts/index.js';
import type { Sql } from '../../db/index.js';
import { createTestDatabase, type TestDatabase } from '../../../test/harness/database.js';
import { coverageCounts } from './coverage.js';
import { dropModelRows } from './models.js';
import { VectorIndex } from './store.js';

// The coverage counter that GET /v1/models reads must equal what counting every
// document's chunks says, after each kind of write the indexer makes: a document whose
// parts arrive one by one, an update to fewer and to more chunks, a stale older version,
// a deletion, a second model indexing the same documents (blue/green), a model retired.
const TENANT = 'acme';

function vectors(
  o: { id: string; version: number; chunkCount: number; model?: string; collection?: string },
  indexes: number[] = Array.from({ length: o.chunkCount }, (_, i) => i),
  deleted = false,
): VectorsV1 {
  return {
    tenant: TENANT,
    collection: o.collection ?? 'kb',
    documentId: o.id,
    version: o.version,
    deleted,
    part: 0,
    parts: 1,
    chunkCount: deleted ? 0 : o.chunkCount,
    document: {},
    chunks: deleted
      ? []
      : indexes.map((index) => ({
          index,
          id: `${o.id}-${o.version}-${index}`.padEnd(32, '0'),
          text: `chunk ${index} of ${o.id}`,
          headings: [],
          hash: `${o.version}${index}`.padStart(64, '0'),
          tokens: 4,
          start: 0,
          end: 10,
        })),
    model: o.model ?? 'm1@aaaaaaaaaaaa',
    dimensions: 2,
    vectors: packVectors(
      (deleted ? [] : indexes).map(() => new Float32Array([1, 0])),
      2,
    ),
  };
}

describe('the coverage counter of each model', () => {
  let db: TestDatabase;
  let index: VectorIndex;

  /** Complete documents per collection and model, by counting every document's chunks. */
  const scan = async (): Promise<Record<string, number>> => {
    const rows = await db.sql<{ k: string; n: number }[]>`
      SELECT i.collection || ' ' || i.model_id AS k, count(*)::int AS n FROM index_documents i
      WHERE i.tenant = ${TENANT} AND i.version > 0 AND NOT i.deleted AND i.chunk_count = (
        SELECT count(*) FROM index_chunks c WHERE c.model_id = i.model_id AND c.tenant = i.tenant
          AND c.collection = i.collection AND c.document_id = i.document_id)
      GROUP BY 1`;
    return Object.fromEntries(rows.map((r) => [r.k, r.n]));
  };
  const counted = async (): Promise<Record<string, number>> => {
    const out: Record<string, number> = {};
    for (const [collection, byModel] of await coverageCounts(db.sql, TENANT))
      for (const [model, n] of byModel) if (n !== 0) out[`${collection} ${model}`] = n;
    return out;
  };
  const expectExact = async (expected: Record<string, number>): Promise<void> => {
    expect(await scan()).toEqual(expected);
    expect(await counted()).toEqual(expected);
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    index = new VectorIndex(db.sql, undefined, false);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('stays exact across inserts, parts, updates, stale versions and deletes', async () => {
    // Three documents; b's three chunks come in two parts, in two batches.
    await index.apply([
      vectors({ id: 'a', version: 1, chunkCount: 2 }),
      vectors({ id: 'b', version: 1, chunkCount: 3 }, [0, 1]),
      vectors({ id: 'c', version: 1, chunkCount: 0 }),
    ]);
    await expectExact({ 'kb m1@aaaaaaaaaaaa': 2 });
    await index.apply([vectors({ id: 'b', version: 1, chunkCount: 3 }, [2])]);
    await expectExact({ 'kb m1@aaaaaaaaaaaa': 3 });

    // a shrinks to one chunk (complete at once); b grows to five, its second part late.
    await index.apply([
      vectors({ id: 'a', version: 2, chunkCount: 1 }),
      vectors({ id: 'b', version: 2, chunkCount: 5 }, [0, 1, 2]),
    ]);
    await expectExact({ 'kb m1@aaaaaaaaaaaa': 2 });
    // A stale version of a changes nothing; b's last part completes it.
    await index.apply([
      vectors({ id: 'a', version: 1, chunkCount: 4 }),
      vectors({ id: 'b', version: 2, chunkCount: 5 }, [3, 4]),
    ]);
    await expectExact({ 'kb m1@aaaaaaaaaaaa': 3 });

    // Deleted twice (the second is stale), then an older update that must not revive it.
    await index.apply([vectors({ id: 'c', version: 2, chunkCount: 0 }, [], true)]);
    await index.apply([
      vectors({ id: 'c', version: 2, chunkCount: 0 }, [], true),
      vectors({ id: 'c', version: 1, chunkCount: 1 }),
    ]);
    await expectExact({ 'kb m1@aaaaaaaaaaaa': 2 });
    // Recreated after the deletion; and a document of another collection.
    await index.apply([
      vectors({ id: 'c', version: 3, chunkCount: 1 }),
      vectors({ id: 'z', version: 1, chunkCount: 1, collection: 'other' }),
    ]);
    await expectExact({ 'kb m1@aaaaaaaaaaaa': 3, 'other m1@aaaaaaaaaaaa': 1 });
  });

  it('counts a second model on its own, and forgets a retired one', async () => {
    const m2 = 'm2@bbbbbbbbbbbb';
    await index.apply([
      vectors({ id: 'a', version: 2, chunkCount: 1, model: m2 }),
      vectors({ id: 'b', version: 2, chunkCount: 5, model: m2 }, [0]),
    ]);
    await expectExact({
      'kb m1@aaaaaaaaaaaa': 3,
      'other m1@aaaaaaaaaaaa': 1,
      [`kb ${m2}`]: 1,
    });
    await index.apply([
      vectors({ id: 'b', version: 2, chunkCount: 5, model: m2 }, [1, 2, 3, 4]),
      vectors({ id: 'c', version: 3, chunkCount: 1, model: m2 }),
    ]);
    await expectExact({ 'kb m1@aaaaaaaaaaaa': 3, 'other m1@aaaaaaaaaaaa': 1, [`kb ${m2}`]: 3 });
    await dropModelRows(db.sql, 'm1@%');
    await expectExact({ [`kb ${m2}`]: 3 });
  });

  it('GET /v1/models reads it in three queries, whatever the collections and models', async () => {
    // Documents come from the collections read model: give it the figures the projector
    // would have written, and the rows the exact scan joins with.
    const versions: Record<string, number> = { a: 2, b: 2, c: 3, z: 1 };
    for (const [collection, ids] of [
      ['kb', ['a', 'b', 'c']],
      ['other', ['z']],
      ['empty', []],
    ] as const) {
      await db.sql`
        INSERT INTO proj_collections (tenant, collection, document_count) VALUES (${TENANT}, ${collection}, ${ids.length})`;
      for (const id of ids)
        await db.sql`
          INSERT INTO proj_documents (tenant, collection, document_id, version, status)
          VALUES (${TENANT}, ${collection}, ${id}, ${versions[id]!}, 'indexed')`;
    }
    let queries = 0;
    const counting = postgres(db.url, { max: 2, debug: () => void queries++ }) as unknown as Sql;
    try {
      // The first call also opens the pool's connections (postgres.js reads the array
      // types then): count a warm call, as a server makes.
      await collectionModels(counting, TENANT, ['m1', 'm2', 'm3']);
      queries = 0;
      const report = await collectionModels(counting, TENANT, ['m1', 'm2', 'm3']);
      expect(queries).toBe(3);
      console.log(`GET /v1/models: ${queries} queries for ${report.length} collections × 3 models`);
      for (const c of report)
        for (const model of ['m1', 'm2', 'm3'])
          expect(c.coverage[model], `${c.collection} ${model}`).toEqual(
            await coverage(db.sql, TENANT, c.collection, model),
          );
      expect(report.find((c) => c.collection === 'kb')?.coverage.m2).toEqual({
        documents: 3,
        indexed: 3,
      });
    } finally {
      await (counting as unknown as postgres.Sql).end();
    }
  });
});
