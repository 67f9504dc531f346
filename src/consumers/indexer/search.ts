import type { Sql } from '../../db/index.js';
import { DEFAULT_VECTOR_WEIGHT, FUSION_CANDIDATES, fuse, type Scored } from './fusion.js';
import type { KeywordMemory } from './keyword-memory.js';
import { keywordSearch, type KeywordStats } from './keyword-search.js';

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
   * Keyword: postings read per query term in the first round, best first; later rounds
   * read 4× more until the top k is provably exact (keyword-search.ts). @defaultValue 1000
   */
  keywordDepth?: number;
  /** Keyword: posting lists held in memory, where they answer (keyword-memory.ts). */
  keywordMemory?: KeywordMemory;
  /** Called with how the keyword side ran (plan, rounds, postings read). */
  onKeywordStats?: (stats: KeywordStats) => void;
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
    // Exact: `+ 0` hides the expression from the HNSW index, so every row is sorted, ties
    // by key. HNSW: by distance alone, ties broken by the caller (`byScore`). A tie-break
    // here puts an incremental sort above the index scan, which reads one row past the
    // limit to close its last group; at a limit of hnsw.ef_search or more (hybrid's 100
    // candidates) that row costs a second, iterative scan. Over 10k chunks, SciFact's 1,109
    // queries at limit 100 took 2.59 ms p50 with the tie-break and 1.45 without, with the
    // same hits for every query; at limit 10, 1.04 and 1.00.
    const order = this.p.exact ? `(${distance}) + 0, document_id, chunk_index` : distance;
    return `
      SELECT 1 - (${distance}) AS score, ${cols}
      FROM index_chunks WHERE ${this.chunkFilters()}
      ORDER BY ${order} LIMIT ${this.param(limit)}`;
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

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
/** A score that is not a number (a zero vector's cosine) ranks last, as in PostgreSQL. */
const rank = (k: Key): number => {
  const n = Number(k.score);
  return Number.isNaN(n) ? -Infinity : n;
};
/**
 * Best score first, ties by document, chunk and collection: the rows returned come in one
 * order. (Which of several rows at the same distance an HNSW scan returns at its limit
 * is the scan's.) A scan with iterative_scan = relaxed_order may also return rows
 * slightly out of distance order, which this puts right.
 */
const byScore = (a: Key, b: Key): number =>
  rank(b) - rank(a) ||
  compare(a.document_id, b.document_id) ||
  a.chunk_index - b.chunk_index ||
  compare(a.collection, b.collection);

/**
 * Search over the index. The model id is written into the SQL as a literal (it comes
 * from the model registry, not the request) so PostgreSQL can use that model's partial
 * HNSW index; everything else is a parameter.
 *
 * - vector: cosine similarity, HNSW (iterative scans keep filtered queries full);
 * - keyword: BM25 over the keyword index, any query term matching (OR), exact top k
 *   without reading every posting (keyword-search.ts);
 * - hybrid: the best FUSION_CANDIDATES of each, fused by a weighted sum of normalised
 *   scores (fusion.ts).
 */
export async function search(sql: Sql, p: SearchParams): Promise<SearchHit[]> {
  if (p.mode === 'vector') {
    const q = new Query(p);
    return (await sql.unsafe<Row[]>(q.vector(p.k, COLS), q.params as never[]))
      .sort(byScore)
      .map(hit);
  }
  if (p.mode === 'keyword') {
    if (!p.terms || p.terms.length === 0) return [];
    const keys = await keywordKeys(sql, p, p.k);
    return rowsFor(sql, p, keys);
  }

  const n = Math.max(p.k, FUSION_CANDIDATES);
  const vq = new Query(p);
  const [vector, keyword] = await Promise.all([
    sql.unsafe<Key[]>(vq.vector(n, 'collection, document_id, chunk_index'), vq.params as never[]),
    p.terms && p.terms.length > 0 ? keywordKeys(sql, p, n) : Promise.resolve([] as Key[]),
  ]);
  const scored = (rows: Key[]): Scored[] =>
    rows.map((r) => ({ key: keyOf(r), score: Number(r.score) }));
  const top = fuse(scored(vector), scored(keyword), p.vectorWeight ?? DEFAULT_VECTOR_WEIGHT).slice(
    0,
    p.k,
  );
  return rowsFor(
    sql,
    p,
    top.map((t) => {
      const [collection, document_id, chunk_index] = t.key.split('\u0000');
      return {
        collection: collection!,
        document_id: document_id!,
        chunk_index: Number(chunk_index),
        score: t.score,
      };
    }),
  );
}

/** The k best chunks by BM25 (exact; keyword-search.ts). */
async function keywordKeys(sql: Sql, p: SearchParams, k: number): Promise<Key[]> {
  const { hits, stats } = await keywordSearch(
    sql,
    {
      tenant: p.tenant,
      ...(p.collection === undefined ? {} : { collection: p.collection }),
      modelId: p.modelId,
      terms: p.terms ?? [],
      ...(p.filter === undefined ? {} : { filter: p.filter }),
      ...(p.keywordDepth === undefined ? {} : { depth: p.keywordDepth }),
    },
    k,
    p.keywordMemory ? { memory: p.keywordMemory } : {},
  );
  p.onKeywordStats?.(stats);
  return hits;
}

/** The chunk rows of ranked keys, in their order, with their scores. */
async function rowsFor(sql: Sql, p: SearchParams, keys: Key[]): Promise<SearchHit[]> {
  if (keys.length === 0) return [];
  const rq = new Query(p);
  const rows = await sql.unsafe<Omit<Row, 'score'>[]>(
    `SELECT ${COLS} FROM index_chunks c
     JOIN unnest(${rq.param(keys.map((x) => x.collection))}::text[], ${rq.param(keys.map((x) => x.document_id))}::text[],
                 ${rq.param(keys.map((x) => x.chunk_index))}::int[]) AS u(c, d, i)
       ON c.collection = u.c AND c.document_id = u.d AND c.chunk_index = u.i
     WHERE c.model_id = ${literal(p.modelId)} AND c.tenant = ${rq.param(p.tenant)}`,
    rq.params as never[],
    // Prepared: PostgreSQL planned this lookup by key in longer than it ran it.
    { prepare: true },
  );
  const byKey = new Map(rows.map((r) => [keyOf(r), r]));
  return keys.flatMap((t) => {
    const r = byKey.get(keyOf(t));
    return r ? [hit({ ...r, score: t.score })] : [];
  });
}
