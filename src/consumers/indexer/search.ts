import type { Sql } from '../../db/index.js';

export type SearchMode = 'vector' | 'keyword' | 'hybrid';

export interface SearchParams {
  tenant: string;
  collection?: string;
  /** The model whose vectors (and rows) are searched; never two at once. */
  modelId: string;
  dimensions: number;
  mode: SearchMode;
  query: string;
  /** The query embedded with the same model (vector and hybrid). */
  vector?: Float32Array;
  k: number;
  filter?: { metadata?: Record<string, unknown>; documentIds?: string[] };
}

export interface SearchHit {
  score: number;
  collection: string;
  documentId: string;
  chunkIndex: number;
  chunkId: string;
  text: string;
  headings: string[];
  title: string | null;
  uri: string | null;
  metadata: Record<string, unknown>;
}

/** Reciprocal rank fusion constant (Cormack et al.). */
const RRF_K = 60;

const literal = (s: string): string => `'${s.replace(/'/g, "''")}'`;
const vectorText = (v: Float32Array): string =>
  `[${Array.from(v, (x) => x.toPrecision(9)).join(',')}]`;

interface Row {
  score: number;
  collection: string;
  document_id: string;
  chunk_index: number;
  chunk_id: string;
  text: string;
  headings: string[];
  title: string | null;
  uri: string | null;
  metadata: Record<string, unknown>;
}

/**
 * Search over the vector index. The model id is written into the SQL as a literal
 * (it comes from the model registry, not the request) so PostgreSQL can use that
 * model's partial HNSW index; everything else is a parameter.
 *
 * - vector: cosine similarity, HNSW (iterative scans keep filtered queries full);
 * - keyword: PostgreSQL full-text search (websearch syntax), ranked by ts_rank_cd;
 * - hybrid: both, fused by reciprocal rank fusion (k = 60).
 */
export async function search(sql: Sql, p: SearchParams): Promise<SearchHit[]> {
  const params: unknown[] = [];
  const param = (v: unknown): string => {
    params.push(v);
    return `$${params.length}`;
  };
  const where = [`model_id = ${literal(p.modelId)}`, `tenant = ${param(p.tenant)}`];
  if (p.collection !== undefined) where.push(`collection = ${param(p.collection)}`);
  if (p.filter?.metadata && Object.keys(p.filter.metadata).length > 0)
    where.push(`metadata @> ${param(JSON.stringify(p.filter.metadata))}::jsonb`);
  if (p.filter?.documentIds && p.filter.documentIds.length > 0)
    where.push(`document_id = ANY(${param(p.filter.documentIds)}::text[])`);
  const dims = Math.trunc(p.dimensions);
  const cols =
    'collection, document_id, chunk_index, chunk_id, text, headings, title, uri, metadata';
  const filters = where.join(' AND ');

  let text: string;
  if (p.mode === 'vector') {
    const q = `${param(vectorText(p.vector!))}::vector(${dims})`;
    text = `
      SELECT 1 - (embedding::vector(${dims}) <=> ${q}) AS score, ${cols}
      FROM index_chunks WHERE ${filters}
      ORDER BY embedding::vector(${dims}) <=> ${q} LIMIT ${param(p.k)}`;
  } else if (p.mode === 'keyword') {
    text = `
      SELECT ts_rank_cd(tsv, q)::float8 AS score, ${cols}
      FROM index_chunks, websearch_to_tsquery('english', ${param(p.query)}) q
      WHERE ${filters} AND tsv @@ q
      ORDER BY score DESC, document_id, chunk_index LIMIT ${param(p.k)}`;
  } else {
    const q = `${param(vectorText(p.vector!))}::vector(${dims})`;
    const n = param(Math.min(200, Math.max(p.k * 4, 20)));
    text = `
      WITH v AS (
        SELECT document_id, collection, chunk_index, row_number() OVER (ORDER BY d, document_id, chunk_index) AS r FROM (
          SELECT document_id, collection, chunk_index, embedding::vector(${dims}) <=> ${q} AS d
          FROM index_chunks WHERE ${filters}
          ORDER BY embedding::vector(${dims}) <=> ${q} LIMIT ${n}) a),

      kw AS (
        SELECT document_id, collection, chunk_index, row_number() OVER (ORDER BY rank DESC, document_id, chunk_index) AS r FROM (
          SELECT document_id, collection, chunk_index, ts_rank_cd(tsv, q) AS rank
          FROM index_chunks, websearch_to_tsquery('english', ${param(p.query)}) q
          WHERE ${filters} AND tsv @@ q ORDER BY rank DESC LIMIT ${n}) b),
      fused AS (
        SELECT collection, document_id, chunk_index, sum(1.0 / (${RRF_K} + r))::float8 AS score
        FROM (SELECT * FROM v UNION ALL SELECT * FROM kw) u GROUP BY collection, document_id, chunk_index)
      SELECT f.score, c.collection, c.document_id, c.chunk_index, c.chunk_id, c.text, c.headings, c.title, c.uri, c.metadata
      FROM fused f JOIN index_chunks c
        ON c.model_id = ${literal(p.modelId)} AND c.tenant = ${param(p.tenant)} AND c.collection = f.collection
       AND c.document_id = f.document_id AND c.chunk_index = f.chunk_index
      ORDER BY f.score DESC, c.document_id, c.chunk_index LIMIT ${param(p.k)}`;
  }
  const rows = await sql.unsafe<Row[]>(text, params as never[]);
  return rows.map((r) => ({
    score: Number(r.score),
    collection: r.collection,
    documentId: r.document_id,
    chunkIndex: r.chunk_index,
    chunkId: r.chunk_id,
    text: r.text,
    headings: r.headings,
    title: r.title,
    uri: r.uri,
    metadata: r.metadata,
  }));
}
