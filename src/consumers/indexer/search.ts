import type { Sql } from '../../db/index.js';
import { DEFAULT_VECTOR_WEIGHT, FUSION_CANDIDATES, fuse, type Scored } from './fusion.js';
import { impactSql, keywordTables } from './keyword-index.js';

export type SearchMode = 'vector' | 'keyword' | 'hybrid';

export interface SearchParams {
  tenant: string;
  collection?: string;
  /** The model whose vectors (and rows) are searched; never two at once. */
  modelId: string;
  dimensions: number;
  mode: SearchMode;
  /** The query's lexemes (queryTerms) for keyword and hybrid; none: hybrid is vector only. */
  terms?: string[];
  /** The query embedded with the same model (vector and hybrid). */
  vector?: Float32Array;
  k: number;
  filter?: { metadata?: Record<string, unknown>; documentIds?: string[] };
  /** Hybrid: weight of the vector side, 0…1. */
  vectorWeight?: number;
  /** Vector: scan every row instead of the HNSW index (to measure the index's recall). */
  exact?: boolean;
  /**
   * Keyword: postings read per query term, best first. Lists longer than this are cut
   * before candidates are scored exactly. @defaultValue 1000
   */
  keywordDepth?: number;
}

export interface SearchHit {
  score: number;
  collection: string;
  documentId: string;
  chunkIndex: number;
  chunkId: string;
  text: string;
  headings: string[];
  pages: number[];
  title: string | null;
  uri: string | null;
  metadata: Record<string, unknown>;
}

const literal = (s: string): string => `'${s.replace(/'/g, "''")}'`;
const vectorText = (v: Float32Array): string =>
  `[${Array.from(v, (x) => x.toPrecision(9)).join(',')}]`;

const COLS =
  'collection, document_id, chunk_index, chunk_id, text, headings, pages, title, uri, metadata';

interface Row {
  score: number;
  collection: string;
  document_id: string;
  chunk_index: number;
  chunk_id: string;
  text: string;
  headings: string[];
  pages: number[];
  title: string | null;
  uri: string | null;
  metadata: Record<string, unknown>;
}

/**
 * The lexemes PostgreSQL's `english` configuration makes of a query: the same as the
 * index holds for chunks. Stop words and punctuation leave none.
 */
export async function queryTerms(sql: Sql, query: string): Promise<string[]> {
  const rows = await sql<{ lexeme: string }[]>`
    SELECT lexeme FROM unnest(to_tsvector('english', ${query})) ORDER BY lexeme`;
  return rows.map((r) => r.lexeme);
}

/** Builds one statement's parameters and filters. */
class Query {
  readonly params: unknown[] = [];
  constructor(readonly p: SearchParams) {}

  param(v: unknown): string {
    this.params.push(v);
    return `$${this.params.length}`;
  }

  /** Conditions on index_chunks rows (alias `c`, or none). */
  chunkFilters(alias = ''): string {
    const a = alias ? `${alias}.` : '';
    const { p } = this;
    const where = [`${a}model_id = ${literal(p.modelId)}`, `${a}tenant = ${this.param(p.tenant)}`];
    if (p.collection !== undefined) where.push(`${a}collection = ${this.param(p.collection)}`);
    if (this.hasMetadataFilter())
      where.push(`${a}metadata @> ${this.param(JSON.stringify(p.filter!.metadata))}::jsonb`);
    if (p.filter?.documentIds && p.filter.documentIds.length > 0)
      where.push(`${a}document_id = ANY(${this.param(p.filter.documentIds)}::text[])`);
    return where.join(' AND ');
  }

  hasMetadataFilter(): boolean {
    return !!this.p.filter?.metadata && Object.keys(this.p.filter.metadata).length > 0;
  }

  /** Nearest chunks by cosine similarity: collection, document_id, chunk_index, score (+ cols). */
  vector(limit: number, cols: string): string {
    const dims = Math.trunc(this.p.dimensions);
    const q = `${this.param(vectorText(this.p.vector!))}::vector(${dims})`;
    const distance = `embedding::vector(${dims}) <=> ${q}`;
    // `+ 0` hides the expression from the HNSW index: an exact scan.
    const order = this.p.exact ? `(${distance}) + 0` : distance;
    return `
      SELECT 1 - (${distance}) AS score, ${cols}
      FROM index_chunks WHERE ${this.chunkFilters()}
      ORDER BY ${order}, document_id, chunk_index LIMIT ${this.param(limit)}`;
  }

  /**
   * BM25 over the keyword index, in two steps. Candidates: each term's postings best
   * impact first, cut at keywordDepth (unless a metadata filter must see them all), summed
   * per chunk. Then the best of those are scored exactly, every query term looked up for
   * each (a chunk cut from one term's list gets that term back). Returns collection,
   * document_id, chunk_index, score.
   */
  keyword(limit: number): string {
    const { p } = this;
    const scopes = [
      `model_id = ${literal(p.modelId)}`,
      `tenant = ${this.param(p.tenant)}`,
      ...(p.collection === undefined ? [] : [`collection = ${this.param(p.collection)}`]),
    ].join(' AND ');
    const docs =
      p.filter?.documentIds && p.filter.documentIds.length > 0
        ? `AND x.document_id = ANY(${this.param(p.filter.documentIds)}::text[])`
        : '';
    const depth = this.hasMetadataFilter()
      ? ''
      : `LIMIT ${this.param(Math.max(1, Math.trunc(p.keywordDepth ?? 1000)))}`;
    const metadata = this.hasMetadataFilter()
      ? `JOIN index_chunks c ON c.model_id = ${literal(p.modelId)} AND c.tenant = ${this.param(p.tenant)}
           AND c.collection = w.collection AND c.document_id = x.document_id AND c.chunk_index = x.chunk_index
           AND c.metadata @> ${this.param(JSON.stringify(p.filter!.metadata))}::jsonb`
      : '';
    const weight = (x: string): string => `w.idf * ${impactSql(`${x}.tf`, `${x}.length`, 'w.avg')}`;
    return `
      WITH s AS (
        SELECT scope, collection, chunks::float8 AS n, total_length::float8 / greatest(chunks, 1) AS avg
        FROM ${keywordTables.scopes} WHERE ${scopes}),
      w AS (
        SELECT s.scope, s.collection, s.avg, k.term,
               ln(1 + (s.n - k.df + 0.5::float8) / (k.df + 0.5::float8)) AS idf
        FROM s JOIN ${keywordTables.terms} k ON k.scope = s.scope
        WHERE k.term = ANY(${this.param(p.terms ?? [])}::text[]) AND k.df > 0),
      c AS (
        SELECT w.collection, x.document_id, x.chunk_index, sum(${weight('x')}) AS score
        FROM w CROSS JOIN LATERAL (
          -- NULLS LAST as the index is built: any other order makes PostgreSQL read the
          -- whole list and sort it instead of stopping at the depth.
          SELECT x.document_id, x.chunk_index, x.tf, x.length FROM ${keywordTables.postings} x
          WHERE x.scope = w.scope AND x.term = w.term ${docs}
          ORDER BY x.impact DESC NULLS LAST ${depth}) x
        ${metadata}
        GROUP BY 1, 2, 3
        ORDER BY score DESC, x.document_id, x.chunk_index LIMIT ${this.param(Math.max(100, 2 * limit))})
      SELECT c.collection, c.document_id, c.chunk_index, sum(${weight('x')}) AS score
      FROM c JOIN w ON w.collection = c.collection
      JOIN ${keywordTables.postings} x ON x.scope = w.scope AND x.term = w.term
        AND x.document_id = c.document_id AND x.chunk_index = c.chunk_index
      GROUP BY 1, 2, 3
      ORDER BY score DESC, c.document_id, c.chunk_index LIMIT ${this.param(limit)}`;
  }
}

const hit = (r: Row): SearchHit => ({
  score: Number(r.score),
  collection: r.collection,
  documentId: r.document_id,
  chunkIndex: r.chunk_index,
  chunkId: r.chunk_id,
  text: r.text,
  headings: r.headings,
  pages: r.pages,
  title: r.title,
  uri: r.uri,
  metadata: r.metadata,
});

interface Key {
  collection: string;
  document_id: string;
  chunk_index: number;
  score: number;
}
const keyOf = (r: { collection: string; document_id: string; chunk_index: number }): string =>
  `${r.collection}\u0000${r.document_id}\u0000${r.chunk_index}`;

/**
 * Search over the index. The model id is written into the SQL as a literal (it comes
 * from the model registry, not the request) so PostgreSQL can use that model's partial
 * HNSW index; everything else is a parameter.
 *
 * - vector: cosine similarity, HNSW (iterative scans keep filtered queries full);
 * - keyword: BM25 over the keyword index, any query term matching (OR);
 * - hybrid: the best FUSION_CANDIDATES of each, fused by a weighted sum of normalised
 *   scores (fusion.ts).
 */
export async function search(sql: Sql, p: SearchParams): Promise<SearchHit[]> {
  if (p.mode === 'vector') {
    const q = new Query(p);
    return (await sql.unsafe<Row[]>(q.vector(p.k, COLS), q.params as never[])).map(hit);
  }
  if (p.mode === 'keyword') {
    if (!p.terms || p.terms.length === 0) return [];
    const q = new Query(p);
    const text = `
      WITH hits AS (${q.keyword(p.k)})
      SELECT h.score, ${COLS.split(', ')
        .map((c) => `c.${c}`)
        .join(', ')}
      FROM hits h JOIN index_chunks c ON c.model_id = ${literal(p.modelId)} AND c.tenant = ${q.param(p.tenant)}
        AND c.collection = h.collection AND c.document_id = h.document_id AND c.chunk_index = h.chunk_index
      ORDER BY h.score DESC, c.document_id, c.chunk_index`;
    return (await sql.unsafe<Row[]>(text, q.params as never[])).map(hit);
  }

  const n = Math.max(p.k, FUSION_CANDIDATES);
  const vq = new Query(p);
  const kq = new Query(p);
  const [vector, keyword] = await Promise.all([
    sql.unsafe<Key[]>(vq.vector(n, 'collection, document_id, chunk_index'), vq.params as never[]),
    p.terms && p.terms.length > 0
      ? sql.unsafe<Key[]>(kq.keyword(n), kq.params as never[])
      : Promise.resolve([] as Key[]),
  ]);
  const scored = (rows: Key[]): Scored[] =>
    rows.map((r) => ({ key: keyOf(r), score: Number(r.score) }));
  const top = fuse(scored(vector), scored(keyword), p.vectorWeight ?? DEFAULT_VECTOR_WEIGHT).slice(
    0,
    p.k,
  );
  if (top.length === 0) return [];
  const parts = top.map((t) => t.key.split('\u0000'));
  const rq = new Query(p);
  const rows = await sql.unsafe<Omit<Row, 'score'>[]>(
    `SELECT ${COLS} FROM index_chunks c
     JOIN unnest(${rq.param(parts.map((x) => x[0]))}::text[], ${rq.param(parts.map((x) => x[1]))}::text[],
                 ${rq.param(parts.map((x) => Number(x[2])))}::int[]) AS u(c, d, i)
       ON c.collection = u.c AND c.document_id = u.d AND c.chunk_index = u.i
     WHERE c.model_id = ${literal(p.modelId)} AND c.tenant = ${rq.param(p.tenant)}`,
    rq.params as never[],
  );
  const byKey = new Map(rows.map((r) => [keyOf(r), r]));
  return top.flatMap((t) => {
    const r = byKey.get(t.key);
    return r ? [hit({ ...r, score: t.score })] : [];
  });
}
