import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CollectionsStore } from './collections/store.js';
import { applyContribution, emptyContribution } from './collections/fold.js';
import { DocumentsStore } from './documents/store.js';
import { applyDoc, emptyDoc, type DocInput } from './documents/fold.js';
import { getDocument } from './documents/queries.js';
import { createTestDatabase, type TestDatabase } from '../../test/harness/database.js';

/**
 * The stores insert new documents' rows without locking them first; a row another
 * writer inserted meanwhile is locked and folded onto. Two writers racing on the same
 * new documents, as the events and status consumers of a projection do, must end with
 * what folding every input in one place gives.
 */
describe('projection stores: concurrent writers on new documents', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  const at = (n: number): string => new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString();
  const key = (i: number) => ({ tenant: 'acme', collection: `c${i % 3}`, documentId: `d${i}` });
  const upserted = (i: number): DocInput => ({
    kind: 'upserted',
    version: i + 1,
    at: at(i),
    title: `doc ${i}`,
    uri: null,
    mimeType: 'text/plain',
    metadata: {},
    contentHash: String(i).padStart(64, '0'),
    bytes: 100 + i,
  });
  const chunked = (i: number): DocInput => ({
    kind: 'status',
    status: { ...key(i), version: i + 1, stage: 'chunked', at: at(i + 1), parts: 1, chunkCount: 3 },
  });

  it('documents: each row is the fold of all its inputs', async () => {
    const store = new DocumentsStore(db.sql);
    const n = 300;
    // Rounds of batches over the same new keys, one writer per stream, at once.
    for (let round = 0; round < 3; round++) {
      const ids = Array.from({ length: 100 }, (_, j) => round * 100 + j);
      await Promise.all([
        store.apply(
          ids.map((i) => ({ key: key(i), input: upserted(i) })),
          { stream: 'EVENTS', seq: round + 1 },
        ),
        store.apply(
          [...ids].reverse().map((i) => ({ key: key(i), input: chunked(i) })),
          { stream: 'STATUS', seq: round + 1 },
        ),
      ]);
    }
    const rows = await db.sql<
      { document_id: string; status: string; version: string; chunk_count: number; bytes: string }[]
    >`
      SELECT document_id, status, version, chunk_count, bytes FROM proj_documents ORDER BY document_id`;
    expect(rows).toHaveLength(n);
    for (const r of rows) {
      const i = Number(r.document_id.slice(1));
      const want = [upserted(i), chunked(i)].reduce(
        applyDoc,
        emptyDoc('acme', `c${i % 3}`, r.document_id),
      );
      expect({
        status: r.status,
        version: Number(r.version),
        chunks: r.chunk_count,
        bytes: Number(r.bytes),
      }).toEqual({
        status: want.status,
        version: want.version,
        chunks: want.chunkCount,
        bytes: want.bytes,
      });
    }
  });

  it("documents: a parsed file's facts are stored and read back; a given title wins", async () => {
    const store = new DocumentsStore(db.sql);
    const k = (id: string) => ({ tenant: 'facts', collection: 'kb', documentId: id });
    const facts = {
      title: 'The Manual',
      authors: ['Ada Lovelace'],
      language: 'en',
      created: at(1),
      modified: at(2),
    };
    const text = { ...(upserted(0) as Extract<DocInput, { kind: 'upserted' }>), version: 1 };
    const file = (title: string | null): DocInput => ({
      ...text,
      title,
      mimeType: 'application/pdf',
    });
    const chunkedWith = (id: string, f?: typeof facts): DocInput => ({
      kind: 'status',
      status: {
        ...k(id),
        version: 1,
        stage: 'chunked',
        at: at(3),
        parts: 1,
        chunkCount: 2,
        ...(f === undefined ? {} : { facts: f }),
      },
    });
    const items = [
      { key: k('parsed.pdf'), input: file(null) },
      { key: k('named.pdf'), input: file('Given') },
      { key: k('text.md'), input: text },
    ];
    const statuses = [
      { key: k('parsed.pdf'), input: chunkedWith('parsed.pdf', facts) },
      { key: k('named.pdf'), input: chunkedWith('named.pdf', facts) },
      { key: k('text.md'), input: chunkedWith('text.md') },
    ];
    await store.apply(items, { stream: 'EVENTS', seq: 10 });
    await store.apply(statuses, { stream: 'STATUS', seq: 10 });
    const read = async (id: string) => (await getDocument(db.sql, 'facts', 'kb', id))!;
    expect(await read('parsed.pdf')).toMatchObject({ title: 'The Manual', facts });
    expect(await read('named.pdf')).toMatchObject({ title: 'Given', facts });
    expect(await read('text.md')).toMatchObject({ title: 'doc 0', facts: null });
    // A redelivered status batch writes nothing: the stored facts compare equal.
    const before = await read('parsed.pdf');
    await store.apply(statuses, { stream: 'STATUS', seq: 10 });
    expect((await read('parsed.pdf')).updatedAt).toBe(before.updatedAt);
  });

  it('collections: totals count every document once', async () => {
    const store = new CollectionsStore(db.sql);
    const ids = Array.from({ length: 300 }, (_, i) => i);
    await Promise.all([
      store.apply(
        ids.map((i) => ({
          key: key(i),
          input: { kind: 'upserted', version: i + 1, bytes: 10 },
          at: at(i),
        })),
        { stream: 'EVENTS', seq: 1 },
      ),
      store.apply(
        [...ids].reverse().map((i) => ({
          key: key(i),
          input: { kind: 'chunked', version: i + 1, chunkCount: 2 },
          at: at(i),
        })),
        { stream: 'STATUS', seq: 1 },
      ),
    ]);
    const want = applyContribution(
      applyContribution(emptyContribution, { kind: 'upserted', version: 1, bytes: 10 }),
      { kind: 'chunked', version: 1, chunkCount: 2 },
    );
    const cols = await db.sql<
      { collection: string; document_count: number; chunk_count: string; bytes: string }[]
    >`
      SELECT collection, document_count, chunk_count, bytes FROM proj_collections ORDER BY collection`;
    expect(
      cols.map((c) => [c.collection, c.document_count, Number(c.chunk_count), Number(c.bytes)]),
    ).toEqual(['c0', 'c1', 'c2'].map((c) => [c, 100, 100 * want.chunkCount, 100 * want.bytes]));
  });
});
