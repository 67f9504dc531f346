import { quotedName, type Sql } from '../../db/index.js';
import type { VectorsV1 } from '../../contracts/index.js';
import { hnswIndexSql } from './hnsw-index.js';
import { indexTables, type IndexTables } from './index-tables.js';
import { KeywordIndex, type ChunkKeys } from './keyword-index.js';
import { upsertChunks } from './upsert-chunks.js';

export { hnswIndexName, hnswIndexSql } from './hnsw-index.js';
export { indexTables, type IndexTables } from './index-tables.js';

export type ApplyOutcome = 'applied' | 'stale';

/**
 * The vector index in PostgreSQL + pgvector, written by the indexer only.
 *
 * Version fencing: every document row records the newest version applied for a model.
 * A vectors part of an older version changes nothing; a part of a newer version first
 * drops the chunks past the new chunk count; a deletion drops every chunk and leaves a
 * tombstone row, so a late older update can never bring the document back. Chunk rows
 * are upserted only over rows of the same or an older version.
 */
export class VectorIndex {
  private readonly indexed = new Set<string>();
  private readonly keywords: KeywordIndex;

  /**
   * @param tables where to write (a replay writes shadow tables)
   * @param hnsw create each model's HNSW index on first sight; a replay builds them at the end
   * @param keywords 'maintain': keep the keyword index in step with every batch;
   *   'deferred': leave it alone, for a replay that builds it once from the loaded chunk
   *   rows ({@link rebuildKeywords}): per batch, the postings' removal and insertion were
   *   most of a replay's time in PostgreSQL.
   */
  constructor(
    private readonly sql: Sql,
    readonly tables: IndexTables = indexTables,
    private readonly hnsw = true,
    private readonly keywordMode: 'maintain' | 'deferred' = 'maintain',
  ) {
    this.keywords = new KeywordIndex(tables, tables.chunks);
  }

  /**
   * Builds the keyword index from the chunk rows as they are, in one statement: the
   * bulk path of a replay that wrote them with `keywords: 'deferred'`. Whatever the
   * keyword tables held (a replay from a point seeds them from the live ones) is
   * replaced, so the postings match the rows exactly.
   */
  async rebuildKeywords(): Promise<void> {
    const { scopes, terms, postings, chunks } = this.tables;
    await this.sql.begin(async (txn) => {
      const tx = txn as unknown as Sql;
      await tx`TRUNCATE ${tx(postings)}, ${tx(terms)}, ${tx(scopes)}`;
      await tx`SET LOCAL maintenance_work_mem = '512MB'`;
      // A rebuild of a large index outlasts any statement_timeout meant for a query.
      await tx`SET LOCAL statement_timeout = 0`;
      // Millions of postings inserted into B-trees keyed by scope and term, in chunk
      // order, are several times slower than building each B-tree once, sorted, after
      // them: the postings' primary key and other indexes go, and come back after the load.
      const indexes = await tx<{ def: string; name: string; pk: string | null }[]>`
        SELECT pg_get_indexdef(i.indexrelid) AS def, ci.relname AS name,
               (SELECT pg_get_constraintdef(k.oid) FROM pg_constraint k
                WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid AND k.contype = 'p') AS pk
        FROM pg_index i JOIN pg_class ci ON ci.oid = i.indexrelid
        WHERE i.indrelid = ${quotedName(postings)}::regclass`;
      const schema = postings.includes('.') ? `${quotedName(postings.split('.')[0]!)}.` : '';
      for (const x of indexes)
        await tx.unsafe(
          x.pk
            ? `ALTER TABLE ${quotedName(postings)} DROP CONSTRAINT "${x.name}"`
            : `DROP INDEX ${schema}"${x.name}"`,
        );
      for (const statement of this.keywords.rebuildSql(
        `SELECT model_id, tenant, collection, document_id, chunk_index, tsv FROM ${quotedName(chunks)}`,
      ))
        await tx.unsafe(statement);
      for (const x of indexes)
        await tx.unsafe(
          x.pk ? `ALTER TABLE ${quotedName(postings)} ADD CONSTRAINT "${x.name}" ${x.pk}` : x.def,
        );
    });
  }

  /** Creates the model's partial HNSW index (cosine) once; idempotent across processes. */
  async ensureModelIndex(modelId: string, dimensions: number): Promise<void> {
    if (!this.hnsw || this.indexed.has(modelId)) return;
    await this.sql.begin(async (tx) => {
      // Building it over the rows already there may outlast SLUICE_DB_STATEMENT_TIMEOUT.
      await tx`SET LOCAL statement_timeout = 0`;
      await tx`SELECT pg_advisory_xact_lock(hashtext(${`hnsw:${modelId}`}))`;
      await tx.unsafe(hnswIndexSql(modelId, dimensions, this.tables.chunks));
    });
    this.indexed.add(modelId);
  }

  /**
   * Applies vectors parts in one transaction, with a handful of statements per batch:
   * the documents' rows are locked (in key order), each part is fenced against its
   * document's state in memory, in order, and then the document rows, the chunk
   * deletions and the chunk upserts are written once each.
   */
  async apply(parts: VectorsV1[]): Promise<ApplyOutcome[]> {
    const keyOf = (p: VectorsV1): string =>
      `${p.model}\u0000${p.tenant}\u0000${p.collection}\u0000${p.documentId}`;
    const order = parts
      .map((p, i) => ({ p, i, k: keyOf(p) }))
      .sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : a.p.version - b.p.version));
    const docs = new Map<string, VectorsV1>();
    for (const { p, k } of order) if (!docs.has(k)) docs.set(k, p);
    const keys = [...docs.values()];
    const col = <T>(f: (p: VectorsV1) => T): T[] => keys.map(f);
    const outcomes = new Array<ApplyOutcome>(parts.length);
    await this.sql.begin(async (txn) => {
      const tx = txn as unknown as Sql;
      const D = this.tables.documents;
      const key = tx`unnest(${col((p) => p.model)}::text[], ${col((p) => p.tenant)}::text[],
                            ${col((p) => p.collection)}::text[], ${col((p) => p.documentId)}::text[]) AS u(m, t, c, d)`;
      await tx`
        INSERT INTO ${tx(D)} (model_id, tenant, collection, document_id, version, deleted, chunk_count)
        SELECT m, t, c, d, 0, false, 0 FROM ${key} ON CONFLICT DO NOTHING`;
      const rows = await tx<
        {
          model_id: string;
          tenant: string;
          collection: string;
          document_id: string;
          version: string;
          deleted: boolean;
          chunk_count: number;
        }[]
      >`
        SELECT x.model_id, x.tenant, x.collection, x.document_id, x.version, x.deleted, x.chunk_count
        FROM ${tx(D)} x JOIN ${key}
          ON x.model_id = u.m AND x.tenant = u.t AND x.collection = u.c AND x.document_id = u.d
        ORDER BY x.model_id, x.tenant, x.collection, x.document_id
        FOR UPDATE OF x`;
      // Complete documents of the batch per (model, tenant, collection), before and after
      // its writes: their difference keeps the coverage counter exact.
      const complete = (): Promise<{ m: string; t: string; c: string; n: number }[]> => tx`
        SELECT x.model_id AS m, x.tenant AS t, x.collection AS c, count(*)::int AS n
        FROM ${tx(D)} x JOIN ${key}
          ON x.model_id = u.m AND x.tenant = u.t AND x.collection = u.c AND x.document_id = u.d
        WHERE x.version > 0 AND NOT x.deleted AND x.chunk_count = (
          SELECT count(*) FROM ${tx(this.tables.chunks)} k WHERE k.model_id = x.model_id
            AND k.tenant = x.tenant AND k.collection = x.collection AND k.document_id = x.document_id)
        GROUP BY 1, 2, 3`;
      const completeBefore = await complete();
      const state = new Map(
        rows.map((r) => [
          `${r.model_id}\u0000${r.tenant}\u0000${r.collection}\u0000${r.document_id}`,
          {
            version: Number(r.version),
            deleted: r.deleted,
            chunkCount: r.chunk_count,
            changed: false,
          },
        ]),
      );
      // Per document: the lowest chunk index deleted from the table (0: all), and the
      // chunk rows to upsert by index (a later version's row replaces an earlier one).
      const deleteFrom = new Map<string, number>();
      const upserts = new Map<string, Map<number, { p: VectorsV1; j: number }>>();
      for (const { p, i, k } of order) {
        const st = state.get(k)!;
        const pending = upserts.get(k) ?? new Map<number, { p: VectorsV1; j: number }>();
        upserts.set(k, pending);
        const dropFrom = (n: number): void => {
          deleteFrom.set(k, Math.min(deleteFrom.get(k) ?? n, n));
          for (const idx of pending.keys()) if (idx >= n) pending.delete(idx);
        };
        if (st.version > p.version) {
          outcomes[i] = 'stale';
          continue;
        }
        if (p.deleted) {
          if (st.version === p.version) {
            outcomes[i] = 'stale';
            continue;
          }
          Object.assign(st, { version: p.version, deleted: true, chunkCount: 0, changed: true });
          dropFrom(0);
          outcomes[i] = 'applied';
          continue;
        }
        if (st.version === p.version && st.deleted) {
          outcomes[i] = 'stale';
          continue;
        }
        if (st.version < p.version) {
          Object.assign(st, {
            version: p.version,
            deleted: false,
            chunkCount: p.chunkCount,
            changed: true,
          });
          // Chunks past the new end vanished with this version.
          dropFrom(p.chunkCount);
        }
        p.chunks.forEach((c, j) => {
          const had = pending.get(c.index);
          if (!had || had.p.version <= p.version) pending.set(c.index, { p, j });
        });
        outcomes[i] = 'applied';
      }

      const changed = [...state.entries()].filter(([, st]) => st.changed);
      if (changed.length > 0) {
        const [m, t, c, d] = [0, 1, 2, 3].map((n) => changed.map(([k]) => k.split('\u0000')[n]!));
        await tx`
          UPDATE ${tx(D)} AS x SET version = u.v, deleted = u.del, chunk_count = u.n, updated_at = now()
          FROM unnest(${m!}::text[], ${t!}::text[], ${c!}::text[], ${d!}::text[],
                      ${changed.map(([, st]) => st.version)}::bigint[],
                      ${changed.map(([, st]) => String(st.deleted))}::text[]::boolean[],
                      ${changed.map(([, st]) => st.chunkCount)}::int[]) AS u(m, t, c, d, v, del, n)
          WHERE x.model_id = u.m AND x.tenant = u.t AND x.collection = u.c AND x.document_id = u.d`;
      }
      const del = [...deleteFrom.entries()];
      const chunkRows = [...upserts.values()].flatMap((byIndex) => [...byIndex.values()]);
      const keysOf = <T>(rows: T[], k: (r: T) => string, i: (r: T) => number): ChunkKeys => {
        const parts = rows.map((r) => k(r).split('\u0000'));
        const at = (n: number): string[] => parts.map((p) => p[n]!);
        return { m: at(0), t: at(1), c: at(2), d: at(3), i: rows.map(i) };
      };
      const from = keysOf(
        del,
        ([k]) => k,
        ([, n]) => n,
      );
      const exact = keysOf(
        chunkRows,
        ({ p }) => keyOf(p),
        ({ p, j }) => p.chunks[j]!.index,
      );
      const keywords = this.keywordMode === 'maintain';
      // The keyword index follows the chunk rows: out before they change, in after.
      if (keywords && from.m.length + exact.m.length > 0) {
        await this.keywords.lock(tx, {
          m: [...from.m, ...exact.m],
          t: [...from.t, ...exact.t],
          c: [...from.c, ...exact.c],
        });
        await this.keywords.remove(tx, exact, from);
      }
      if (del.length > 0) {
        await tx`
          DELETE FROM ${tx(this.tables.chunks)} x
          USING unnest(${from.m}::text[], ${from.t}::text[], ${from.c}::text[], ${from.d}::text[], ${from.i}::int[])
            AS u(m, t, c, d, n)
          WHERE x.model_id = u.m AND x.tenant = u.t AND x.collection = u.c AND x.document_id = u.d
            AND x.chunk_index >= u.n`;
      }
      if (chunkRows.length > 0) {
        await upsertChunks(tx, this.tables.chunks, chunkRows);
        if (keywords) await this.keywords.add(tx, exact);
      }
      await this.countCoverage(tx, completeBefore, await complete());
    });
    return outcomes;
  }

  /** Adds the batch's change in complete documents to the coverage counter, in key order. */
  private async countCoverage(
    tx: Sql,
    before: { m: string; t: string; c: string; n: number }[],
    after: { m: string; t: string; c: string; n: number }[],
  ): Promise<void> {
    const delta = new Map<string, number>();
    const k = (r: { m: string; t: string; c: string }): string => `${r.t}\u0000${r.c}\u0000${r.m}`;
    for (const r of before) delta.set(k(r), (delta.get(k(r)) ?? 0) - r.n);
    for (const r of after) delta.set(k(r), (delta.get(k(r)) ?? 0) + r.n);
    const rows = [...delta.entries()]
      .filter(([, n]) => n !== 0)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, n]) => [...key.split('\u0000'), n] as [string, string, string, number]);
    if (rows.length === 0) return;
    await tx`
      INSERT INTO ${tx(this.tables.coverage)} AS x (tenant, collection, model_id, documents)
      SELECT * FROM unnest(${rows.map((r) => r[0])}::text[], ${rows.map((r) => r[1])}::text[],
                           ${rows.map((r) => r[2])}::text[], ${rows.map((r) => r[3])}::int[])
      ON CONFLICT (tenant, collection, model_id) DO UPDATE SET documents = x.documents + EXCLUDED.documents`;
  }
}
