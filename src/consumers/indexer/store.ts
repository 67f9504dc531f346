import { createHash } from 'node:crypto';
import type { Sql } from '../../db/index.js';
import { unpackVectors, type VectorsV1 } from '../../contracts/index.js';

export type ApplyOutcome = 'applied' | 'stale';

/** Literal for SQL built from a value we validated ourselves (model ids). */
const literal = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** pgvector's text form; 9 significant digits keep a float32 exact. */
function vectorText(v: Float32Array): string {
  let s = '[';
  for (let i = 0; i < v.length; i++) s += (i ? ',' : '') + v[i]!.toPrecision(9);
  return `${s}]`;
}

/** A model's partial HNSW index (cosine) on a chunks table, named the same in every schema. */
export function hnswIndexSql(
  modelId: string,
  dimensions: number,
  chunks = indexTables.chunks,
): string {
  const table = chunks
    .split('.')
    .map((p) => `"${p}"`)
    .join('.');
  return (
    `CREATE INDEX IF NOT EXISTS ${hnswIndexName(modelId)} ON ${table} ` +
    `USING hnsw ((embedding::vector(${Math.trunc(dimensions)})) vector_cosine_ops) WHERE model_id = ${literal(modelId)}`
  );
}

export function hnswIndexName(modelId: string): string {
  return `index_chunks_hnsw_${createHash('sha256').update(modelId).digest('hex').slice(0, 16)}`;
}

/**
 * The vector index in PostgreSQL + pgvector, written by the indexer only.
 *
 * Version fencing: every document row records the newest version applied for a model.
 * A vectors part of an older version changes nothing; a part of a newer version first
 * drops the chunks past the new chunk count; a deletion drops every chunk and leaves a
 * tombstone row, so a late older update can never bring the document back. Chunk rows
 * are upserted only over rows of the same or an older version.
 */
export interface IndexTables {
  documents: string;
  chunks: string;
}

export const indexTables: IndexTables = { documents: 'index_documents', chunks: 'index_chunks' };

export class VectorIndex {
  private readonly indexed = new Set<string>();

  /**
   * @param tables where to write (a replay writes shadow tables)
   * @param hnsw create each model's HNSW index on first sight; a replay builds them at the end
   */
  constructor(
    private readonly sql: Sql,
    readonly tables: IndexTables = indexTables,
    private readonly hnsw = true,
  ) {}

  /** Creates the model's partial HNSW index (cosine) once; idempotent across processes. */
  async ensureModelIndex(modelId: string, dimensions: number): Promise<void> {
    if (!this.hnsw || this.indexed.has(modelId)) return;
    await this.sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(hashtext(${`hnsw:${modelId}`}))`;
      await tx.unsafe(hnswIndexSql(modelId, dimensions, this.tables.chunks));
    });
    this.indexed.add(modelId);
  }

  /** Applies vectors parts in one transaction; documents are locked in a fixed order. */
  async apply(parts: VectorsV1[]): Promise<ApplyOutcome[]> {
    const order = parts
      .map((p, i) => ({ p, i }))
      .sort(
        (a, b) =>
          `${a.p.model}\u0000${a.p.tenant}\u0000${a.p.collection}\u0000${a.p.documentId}`.localeCompare(
            `${b.p.model}\u0000${b.p.tenant}\u0000${b.p.collection}\u0000${b.p.documentId}`,
          ) || a.p.version - b.p.version,
      );
    const outcomes = new Array<ApplyOutcome>(parts.length);
    await this.sql.begin(async (tx) => {
      for (const { p, i } of order) outcomes[i] = await this.applyOne(tx as unknown as Sql, p);
    });
    return outcomes;
  }

  private async applyOne(tx: Sql, p: VectorsV1): Promise<ApplyOutcome> {
    const doc = { m: p.model, t: p.tenant, c: p.collection, d: p.documentId };
    await tx`
      INSERT INTO ${tx(this.tables.documents)} (model_id, tenant, collection, document_id, version, deleted, chunk_count)
      VALUES (${doc.m}, ${doc.t}, ${doc.c}, ${doc.d}, 0, false, 0)
      ON CONFLICT DO NOTHING`;
    const [row] = await tx<{ version: string; deleted: boolean }[]>`
      SELECT version, deleted FROM ${tx(this.tables.documents)}
      WHERE model_id = ${doc.m} AND tenant = ${doc.t} AND collection = ${doc.c} AND document_id = ${doc.d}
      FOR UPDATE`;
    const current = Number(row!.version);
    if (current > p.version) return 'stale';

    if (p.deleted) {
      if (current === p.version) return 'stale';
      await tx`
        UPDATE ${tx(this.tables.documents)} SET version = ${p.version}, deleted = true, chunk_count = 0, updated_at = now()
        WHERE model_id = ${doc.m} AND tenant = ${doc.t} AND collection = ${doc.c} AND document_id = ${doc.d}`;
      await tx`
        DELETE FROM ${tx(this.tables.chunks)}
        WHERE model_id = ${doc.m} AND tenant = ${doc.t} AND collection = ${doc.c} AND document_id = ${doc.d}`;
      return 'applied';
    }
    if (current === p.version && row!.deleted) return 'stale';
    if (current < p.version) {
      await tx`
        UPDATE ${tx(this.tables.documents)} SET version = ${p.version}, deleted = false, chunk_count = ${p.chunkCount}, updated_at = now()
        WHERE model_id = ${doc.m} AND tenant = ${doc.t} AND collection = ${doc.c} AND document_id = ${doc.d}`;
      // Chunks past the new end vanished with this version.
      await tx`
        DELETE FROM ${tx(this.tables.chunks)}
        WHERE model_id = ${doc.m} AND tenant = ${doc.t} AND collection = ${doc.c} AND document_id = ${doc.d}
          AND chunk_index >= ${p.chunkCount}`;
    }
    if (p.chunks.length === 0) return 'applied';
    const vectors = unpackVectors(p.vectors, p.chunks.length, p.dimensions).map(vectorText);
    const c = p.chunks;
    await tx`
      INSERT INTO ${tx(this.tables.chunks)} AS x (model_id, tenant, collection, document_id, chunk_index, chunk_id, version,
                                content_hash, text, headings, title, uri, metadata, embedding, tsv)
      SELECT ${doc.m}, ${doc.t}, ${doc.c}, ${doc.d}, i, id, ${p.version}, h, tx,
             ARRAY(SELECT jsonb_array_elements_text(hd)), ${p.document.title ?? null}, ${p.document.uri ?? null},
             ${JSON.stringify(p.document.metadata ?? {})}::jsonb, e::vector,

             to_tsvector('english'::regconfig,
               ${p.document.title ?? ''} || ' ' || array_to_string(ARRAY(SELECT jsonb_array_elements_text(hd)), ' ') || ' ' || tx)
      FROM unnest(${c.map((x) => x.index)}::int[], ${c.map((x) => x.id)}::text[], ${c.map((x) => x.hash)}::text[],
                  ${c.map((x) => x.text)}::text[], ${c.map((x) => JSON.stringify(x.headings))}::jsonb[], ${vectors}::text[])
           AS u(i, id, h, tx, hd, e)
      ON CONFLICT (model_id, tenant, collection, document_id, chunk_index) DO UPDATE SET
        chunk_id = EXCLUDED.chunk_id, version = EXCLUDED.version, content_hash = EXCLUDED.content_hash,
        text = EXCLUDED.text, headings = EXCLUDED.headings, title = EXCLUDED.title, uri = EXCLUDED.uri,
        metadata = EXCLUDED.metadata, embedding = EXCLUDED.embedding, tsv = EXCLUDED.tsv

      WHERE x.version <= EXCLUDED.version`;
    return 'applied';
  }
}
