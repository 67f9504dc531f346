import type { Sql } from '../../db/index.js';
import { impactSql, keywordTables } from './keyword-index.js';

/** What a keyword search needs: whose chunks, which terms, which filter. */
export interface KeywordQuery {
  tenant: string;
  collection?: string;
  modelId: string;
  terms: string[];
  filter?: { metadata?: Record<string, unknown>; documentIds?: string[] };
  /** Postings read per term in the first round (later rounds read 4× more). @defaultValue 1000 */
  depth?: number;
}

/** A chunk by its key within one model and tenant. */
export interface ChunkKey {
  collection: string;
  document_id: string;
  chunk_index: number;
}

export interface KeywordHit {
  collection: string;
  document_id: string;
  chunk_index: number;
  score: number;
}

/** How a keyword search ran: for benchmarks and `explain`. */
export interface KeywordStats {
  /**
   * memory: every posting of the query's terms scored from lists held in memory
   * (keyword-memory.ts); exhaustive: the same in SQL; postings: impact-ordered lists read
   * until the top k is provably exact; filter-first: the filter's chunks scored.
   */
  plan: 'memory' | 'exhaustive' | 'postings' | 'filter-first';
  rounds: number;
  /** Postings read from the lists (postings plan) plus postings looked up to score candidates. */
  postings: number;
  /** memory: postings loaded from PostgreSQL for this query (lists not held yet). */
  loaded?: number;
}

/**
 * Posting lists held in memory (KeywordMemory, keyword-memory.ts), as this module uses
 * them: an answer, or undefined where they do not answer.
 */
export interface HeldLists {
  search(
    sql: Sql,
    q: KeywordQuery,
    k: number,
    only?: readonly ChunkKey[],
    tests?: number,
  ): Promise<{ hits: KeywordHit[]; stats: KeywordStats } | undefined>;
}

/** A metadata filter matching at most this many chunks is answered by scoring those chunks. */
export const FILTER_FIRST_MAX = 5000;
/**
 * Lists this short in all (the sum of the query terms' document frequencies) are scored
 * whole: one statement with no lookups. Measured on one machine, scoring whole won at
 * every percentile up to 100k chunks: at 12k, 7.5 ms p50 where the rounds took 70 ms;
 * at 100k (300 SciFact queries, up to 148k postings each), 29/78/139 ms p50/p90/max
 * against 205/679/1,228 ms. The rounds stay for lists longer than any measured.
 */
export const EXHAUSTIVE_MAX = 1_000_000;
/** Candidates scored exactly per round: the best by their partial sums. */
const candidates = (k: number): number => Math.max(100, 2 * k);
/** Stored impacts are float4: a bound scaled by this never falls below the true weight. */
const FLOAT4_SLACK = 1.000001;

const literal = (s: string): string => `'${s.replace(/'/g, "''")}'`;

export class Params {
  readonly values: unknown[] = [];
  add(v: unknown): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }
}

const hasMetadata = (q: KeywordQuery): boolean =>
  !!q.filter?.metadata && Object.keys(q.filter.metadata).length > 0;

/** The scopes (s) and query terms with their idf (w) of a query: the head of every statement. */
export function head(q: KeywordQuery, ps: Params): string {
  const { scopes, terms } = keywordTables;
  const where = [
    `model_id = ${literal(q.modelId)}`,
    `tenant = ${ps.add(q.tenant)}`,
    ...(q.collection === undefined ? [] : [`collection = ${ps.add(q.collection)}`]),
  ].join(' AND ');
  return `
    s AS (
      SELECT scope, collection, chunks::float8 AS n, total_length::float8 / greatest(chunks, 1) AS avg,
             -- How much a stored impact may understate a weight computed with today's average.
             greatest(1, (total_length::float8 / greatest(chunks, 1)) / impact_avg) * ${FLOAT4_SLACK}::float8 AS f
      FROM ${scopes} WHERE ${where}),
    w AS (
      SELECT s.scope, s.collection, s.n, s.avg, s.f, k.term, k.df, k.gen,
             ln(1 + (s.n - k.df + 0.5::float8) / (k.df + 0.5::float8)) AS idf
      FROM s JOIN ${terms} k ON k.scope = s.scope
      WHERE k.term = ANY(${ps.add(q.terms)}::text[]) AND k.df > 0)`;
}

const weight = (x: string, w = x): string =>
  `${w}.idf * ${impactSql(`${x}.tf`, `${x}.length`, `${w}.avg`)}`;

/** Conditions on index_chunks rows (alias m) for the filter. */
export function chunkFilter(q: KeywordQuery, ps: Params, m: string): string {
  const parts = [`${m}.model_id = ${literal(q.modelId)}`, `${m}.tenant = ${ps.add(q.tenant)}`];
  if (q.collection !== undefined) parts.push(`${m}.collection = ${ps.add(q.collection)}`);
  if (hasMetadata(q))
    parts.push(`${m}.metadata @> ${ps.add(JSON.stringify(q.filter!.metadata))}::jsonb`);
  if (q.filter?.documentIds && q.filter.documentIds.length > 0)
    parts.push(`${m}.document_id = ANY(${ps.add(q.filter.documentIds)}::text[])`);
  return parts.join(' AND ');
}

/**
 * The filter on postings read (alias x): document ids inside each list's scan, a metadata
 * filter as a join to the chunk row, whose collection is the expression `collection`.
 */
function postingFilters(
  q: KeywordQuery,
  ps: Params,
  collection: string,
  joinMetadata = true,
): { docs: string; metadata: string } {
  const docs =
    q.filter?.documentIds && q.filter.documentIds.length > 0
      ? `AND x.document_id = ANY(${ps.add(q.filter.documentIds)}::text[])`
      : '';
  const metadata =
    joinMetadata && hasMetadata(q)
      ? `JOIN index_chunks m ON ${chunkFilter(q, ps, 'm')}
         AND m.collection = ${collection} AND m.document_id = x.document_id AND m.chunk_index = x.chunk_index`
      : '';
  return { docs, metadata };
}

/**
 * One round of the threshold algorithm at a depth: each term's best `depth` postings
 * (impact order), summed per chunk; the best candidates by that partial sum scored
 * exactly; and a bound on the score of every chunk not scored exactly. A chunk that a
 * term's list has not reached yet gets at most that list's last impact read (times its
 * idf and the average-length factor f); a list read to its end adds nothing more.
 */
function roundSql(q: KeywordQuery, depth: number, k: number, ps: Params): string {
  const { postings } = keywordTables;
  const d = ps.add(depth);
  const { docs, metadata } = postingFilters(q, ps, 'x.collection');
  const top = ps.add(candidates(k));
  return `
    WITH ${head(q, ps)},
    x AS (
      SELECT w.scope, w.collection, w.term, w.idf, w.avg, w.f, x.document_id, x.chunk_index, x.tf, x.length, x.impact
      FROM w CROSS JOIN LATERAL (
        -- NULLS LAST as the index is built: any other order makes PostgreSQL read the
        -- whole list and sort it instead of stopping at the depth.
        SELECT x.document_id, x.chunk_index, x.tf, x.length, x.impact FROM ${postings} x
        WHERE x.scope = w.scope AND x.term = w.term ${docs}
        ORDER BY x.impact DESC NULLS LAST LIMIT ${d}) x),
    b AS (
      SELECT scope, term, CASE WHEN count(*) < ${d} THEN 0::float8 ELSE min(idf * impact * f) END AS bound
      FROM x GROUP BY scope, term),
    u AS (SELECT scope, sum(bound) AS unread FROM b GROUP BY scope),
    c AS (
      SELECT x.scope, x.collection, x.document_id, x.chunk_index, sum(${weight('x')}) AS partial,
             sum(b.bound) AS seen,
             row_number() OVER (ORDER BY sum(${weight('x')}) DESC, x.document_id, x.chunk_index) AS r
      FROM x JOIN b USING (scope, term) ${metadata}
      GROUP BY 1, 2, 3, 4),
    e AS (
      -- A subquery per (candidate, term): one lookup by the whole key. As a join, the
      -- planner scanned each term's list and filtered it (400k rows for 100 candidates).
      SELECT c.collection, c.document_id, c.chunk_index,
             sum((SELECT ${weight('p', 'w')} FROM ${postings} p
                  WHERE p.scope = w.scope AND p.term = w.term
                    AND p.document_id = c.document_id AND p.chunk_index = c.chunk_index)) AS score
      FROM c JOIN w ON w.scope = c.scope
      WHERE c.r <= ${top} AND (SELECT max(unread) FROM u) > 0
      GROUP BY 1, 2, 3)
    SELECT collection, document_id, chunk_index, score, NULL::float8 AS bound, NULL::float8 AS unread, NULL::int AS read FROM e
    UNION ALL
    -- Every list read to its end (short lists, the usual case below ~10k chunks): the
    -- partial sums are the exact scores, and no lookup is needed.
    SELECT collection, document_id, chunk_index, partial, NULL, NULL, NULL FROM c
    WHERE c.r <= ${top} AND coalesce((SELECT max(unread) FROM u), 0) = 0
    UNION ALL
    SELECT NULL, NULL, NULL, NULL,
      greatest(coalesce((SELECT max(c.partial + u.unread - c.seen) FROM c JOIN u USING (scope) WHERE c.r > ${top}), 0),
               coalesce((SELECT max(unread) FROM u), 0)),
      coalesce((SELECT max(unread) FROM u), 0),
      (SELECT count(*)::int FROM x) + (SELECT count(*)::int FROM c WHERE r <= ${top} AND (SELECT max(unread) FROM u) > 0) * cardinality(${ps.add(q.terms)}::text[])`;
}

/**
 * Scores every posting of the query's terms (BM25 by definition) when their lists hold at
 * most `max` postings in all (the sum of their document frequencies); otherwise scores
 * nothing. The last row carries that sum, so one round trip decides and answers.
 */
function exhaustiveSql(q: KeywordQuery, k: number, max: number, ps: Params): string {
  const { postings } = keywordTables;
  const { docs } = postingFilters(q, ps, 'w.collection', false);
  // A metadata filter (one that matches many chunks: fewer go filter-first) is tested on
  // the chunks in score order until k pass, each by one lookup of its row; as a join it
  // read the row of every posting (35k lookups for a query at 100k chunks).
  const filtered = hasMetadata(q);
  return `
    WITH ${head(q, ps)},
    t AS (SELECT coalesce(sum(df), 0)::float8 AS n FROM w),
    e AS (
      SELECT w.collection, x.document_id, x.chunk_index, sum(${weight('x', 'w')}) AS score
      FROM w JOIN ${postings} x ON x.scope = w.scope AND x.term = w.term ${docs}
      -- A condition on the sum alone: PostgreSQL checks it once, before reading a posting.
      WHERE (SELECT n FROM t) <= ${ps.add(max)}
      GROUP BY 1, 2, 3
      ORDER BY score DESC, x.document_id, x.chunk_index
      ${filtered ? 'OFFSET 0' : `LIMIT ${ps.add(k)}`}),
    f AS (${
      filtered
        ? `
      -- LATERAL … LIMIT 1: a lookup per chunk as they come, never a join that reads them all.
      SELECT e.* FROM e CROSS JOIN LATERAL (
        SELECT 1 FROM index_chunks m WHERE ${chunkFilter(q, ps, 'm')}
          AND m.collection = e.collection AND m.document_id = e.document_id AND m.chunk_index = e.chunk_index
        LIMIT 1) ok
      LIMIT ${ps.add(k)}`
        : 'SELECT * FROM e'
    })
    SELECT collection, document_id, chunk_index, score, NULL::float8 AS postings FROM f
    UNION ALL
    SELECT NULL, NULL, NULL, NULL, n FROM t`;
}

/**
 * Scores the chunks a narrow filter matches, found first through the metadata's GIN index
 * and held apart (MATERIALIZED), then joined to the terms' postings. Inlined, PostgreSQL
 * walked every posting of the terms and looked each one's chunk row up to test the
 * filter: 24,464 lookups for a query whose filter matched 1,000 chunks of 100k (470 ms;
 * 48 ms this way).
 */
function filterFirstSql(q: KeywordQuery, k: number, ps: Params): string {
  const { postings } = keywordTables;
  return `
    WITH ${head(q, ps)},
    m AS MATERIALIZED (
      SELECT m.collection, m.document_id, m.chunk_index FROM index_chunks m WHERE ${chunkFilter(q, ps, 'm')})
    SELECT m.collection, m.document_id, m.chunk_index, sum(${weight('p', 'w')}) AS score
    FROM w JOIN ${postings} p ON p.scope = w.scope AND p.term = w.term
    JOIN m ON m.collection = w.collection AND m.document_id = p.document_id AND m.chunk_index = p.chunk_index
    GROUP BY 1, 2, 3
    ORDER BY score DESC, m.document_id, m.chunk_index LIMIT ${ps.add(k)}`;
}

/** Best first; ties by document id, chunk index and collection. */
export const compareHits = (a: KeywordHit, b: KeywordHit): number =>
  b.score - a.score ||
  (a.document_id < b.document_id ? -1 : a.document_id > b.document_id ? 1 : 0) ||
  a.chunk_index - b.chunk_index ||
  (a.collection < b.collection ? -1 : a.collection > b.collection ? 1 : 0);

/**
 * The k best chunks by BM25, exactly: the same scores and order as scoring every posting
 * of the query's terms, without reading them all. Rounds of the threshold algorithm
 * over impact-ordered postings (roundSql), each 4× deeper, stop as soon as the k-th
 * exact score is at least the bound on every chunk not scored; a list read to its end
 * ends the search. A metadata filter that matches few chunks (FILTER_FIRST_MAX) scores
 * exactly those instead of walking the lists. Otherwise lists held in memory answer
 * (`memory`, keyword-memory.ts) where they can; lists short in all (EXHAUSTIVE_MAX) are
 * scored whole in SQL.
 */
export async function keywordSearch(
  sql: Sql,
  q: KeywordQuery,
  k: number,
  o: { filterFirstMax?: number; exhaustiveMax?: number; memory?: HeldLists } = {},
): Promise<{ hits: KeywordHit[]; stats: KeywordStats }> {
  const filterFirstMax = o.filterFirstMax ?? FILTER_FIRST_MAX;
  if (q.terms.length === 0)
    return { hits: [], stats: { plan: 'postings', rounds: 0, postings: 0 } };
  if (hasMetadata(q)) {
    // With the lists in memory, a filter matching many chunks is answered by ranking and
    // testing one batch of candidates. Counting its chunks first took longer than that:
    // through the GIN index, a filter matching half of 100k chunks is a 50k-row bitmap
    // before the first row comes (12 ms).
    const wide = await o.memory?.search(sql, q, k, undefined, 1);
    if (wide) return wide;
    // The filter's chunks, one more than filter-first takes at most: how many there are,
    // and for the lists in memory, which.
    const ps = new Params();
    const only = await sql.unsafe<ChunkKey[]>(
      `SELECT m.collection, m.document_id, m.chunk_index FROM index_chunks m WHERE ${chunkFilter(q, ps, 'm')}
       LIMIT ${filterFirstMax + 1}`,
      ps.values as never[],
    );
    const n = only.length;
    if (n <= filterFirstMax) {
      const held = await o.memory?.search(sql, q, k, only);
      if (held) return held;
      const fs = new Params();
      const rows = await sql.unsafe<KeywordHit[]>(filterFirstSql(q, k, fs), fs.values as never[]);
      return {
        hits: rows.map((r) => ({ ...r, score: Number(r.score) })),
        stats: { plan: 'filter-first', rounds: 1, postings: n * q.terms.length },
      };
    }
  }
  const held = await o.memory?.search(sql, q, k);
  if (held) return held;
  const exhaustiveMax = o.exhaustiveMax ?? EXHAUSTIVE_MAX;
  if (exhaustiveMax > 0) {
    const es = new Params();
    const rows = await sql.unsafe<(KeywordHit & { postings: number | null })[]>(
      exhaustiveSql(q, k, exhaustiveMax, es),
      es.values as never[],
    );
    const n = Number(rows.find((r) => r.collection === null)!.postings);
    if (n <= exhaustiveMax)
      return {
        hits: hitsOf(rows),
        stats: { plan: 'exhaustive', rounds: 1, postings: n },
      };
  }
  let depth = Math.max(1, Math.trunc(q.depth ?? 1000));
  const stats: KeywordStats = { plan: 'postings', rounds: 0, postings: 0 };
  for (;;) {
    const ps = new Params();
    const rows = await sql.unsafe<
      (KeywordHit & { bound: number | null; unread: number | null; read: number | null })[]
    >(roundSql(q, depth, k, ps), ps.values as never[]);
    stats.rounds++;
    const last = rows.find((r) => r.collection === null)!;
    stats.postings += Number(last.read ?? 0);
    const bound = Number(last.bound ?? 0);
    const hits = hitsOf(rows).slice(0, k);
    // Every list read to its end: the partial sums were exact, the best of them scored.
    const exhausted = Number(last.unread ?? 0) <= 0;
    const done = exhausted || (hits.length >= k && hits[k - 1]!.score >= bound);
    if (done) return { hits, stats };
    depth *= 4;
  }
}

/** The hits of a statement whose last row (collection NULL) carries its figures, best first. */
function hitsOf(rows: readonly KeywordHit[]): KeywordHit[] {
  return rows
    .filter((r) => r.collection !== null)
    .map(({ collection, document_id, chunk_index, score }) => ({
      collection,
      document_id,
      chunk_index,
      score: Number(score),
    }))
    .sort(compareHits);
}
