import type { Sql } from '../../db/index.js';
import { chooseWeight, GRID } from '../../eval/index.js';
import { mean } from '../../eval/index.js';
import { holdOut } from '../../eval/index.js';
import { scoreWeights, type JudgedQuery, type Passage } from '../../eval/index.js';

/** What self-calibration stores in `search_fusion.calibration`, and answers. */
export interface SelfCalibration {
  source: 'self-calibrated';
  metric: 'ndcg@10';
  vectorWeight: number;
  /** nDCG@10 on the generated queries at the weight chosen, and of each side alone. */
  score: number;
  keyword: number;
  vector: number;
  /** Generated queries it was chosen on. */
  queries: number;
  /** Chunks of the collection (this model) when it ran: the size later runs compare with. */
  chunks: number;
  /** Chunks in the in-memory sample the queries were searched in. */
  sample: number;
  at: string;
}

export interface SelfCalibrateOptions {
  tenant: string;
  collection: string;
  modelId: string;
  /** Embeds texts with the collection's model, as queries are embedded. */
  embed: (texts: string[]) => Promise<Float32Array[]>;
  /** Chunks sampled into the in-memory collection. @defaultValue 1000 */
  sample?: number;
  /** Generated queries, each from a different document. @defaultValue 200 */
  queries?: number;
}

/** Fewest generated queries worth a choice: with fewer, the chance test says little. */
export const MIN_QUERIES = 30;

/** A string's 32-bit FNV-1a hash: which sentence of a chunk is held out, repeatably. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

interface SampleRow {
  document_id: string;
  chunk_index: number;
  text: string;
  title: string | null;
  headings: string[];
  e: number[];
  terms: string[];
  tfs: number[];
}

/** Lexemes of texts as the index makes them (english), with their frequencies. */
async function lexemes(sql: Sql, texts: string[]): Promise<Map<string, number>[]> {
  const rows = await sql<{ i: number; terms: string[]; tfs: number[] }[]>`
    SELECT u.i::int AS i,
           coalesce(array_agg(l.lexeme) FILTER (WHERE l.lexeme IS NOT NULL), '{}') AS terms,
           coalesce(array_agg(coalesce(array_length(l.positions, 1), 1)) FILTER (WHERE l.lexeme IS NOT NULL), '{}') AS tfs
    FROM unnest(${texts}::text[]) WITH ORDINALITY AS u(t, i)
    LEFT JOIN LATERAL unnest(to_tsvector('english', u.t)) AS l ON true
    GROUP BY u.i ORDER BY u.i`;
  return rows.map((r) => new Map(r.terms.map((t, j) => [t, r.tfs[j]!])));
}

/**
 * Chooses a collection's fusion weight without judged queries: samples its chunks (this
 * model's), holds a sentence out of one chunk per document as a query (pseudo-queries.ts),
 * searches the sample in memory both ways and fuses them at every weight of the grid
 * (score-weights.ts), and picks the weight with the chance test of `sluice eval
 * --calibrate`. Undefined when the collection yields fewer than MIN_QUERIES queries.
 */
export async function selfCalibrate(
  sql: Sql,
  o: SelfCalibrateOptions,
): Promise<SelfCalibration | undefined> {
  const want = o.queries ?? 200;
  const [scope] = await sql<{ chunks: number }[]>`
    SELECT chunks::int AS chunks FROM keyword_scopes
    WHERE model_id = ${o.modelId} AND tenant = ${o.tenant} AND collection = ${o.collection}`;
  // A repeatable sample: chunks in the order of a hash of their key.
  const rows = await sql<SampleRow[]>`
    SELECT document_id, chunk_index, text, title, headings, embedding::real[] AS e,
           ARRAY(SELECT lexeme FROM unnest(tsv)) AS terms,
           ARRAY(SELECT coalesce(array_length(positions, 1), 1) FROM unnest(tsv)) AS tfs
    FROM index_chunks
    WHERE model_id = ${o.modelId} AND tenant = ${o.tenant} AND collection = ${o.collection}
    ORDER BY md5(document_id || ':' || chunk_index), document_id, chunk_index
    LIMIT ${o.sample ?? 1000}`;
  const targets: { row: number; query: string; rest: string }[] = [];
  const used = new Set<string>();
  rows.forEach((r, i) => {
    if (targets.length >= want || used.has(r.document_id)) return;
    const q = holdOut(r.text, hash(`${r.document_id}:${r.chunk_index}`));
    if (!q) return;
    used.add(r.document_id);
    targets.push({ row: i, ...q });
  });
  if (targets.length < MIN_QUERIES) return undefined;

  // The target passages lose the held-out sentence: their lexemes (title and headings
  // kept, as the index keeps them) and their vectors are made again without it.
  const [queryTerms, restTerms] = await Promise.all([
    lexemes(
      sql,
      targets.map((t) => t.query),
    ),
    lexemes(
      sql,
      targets.map((t) => {
        const r = rows[t.row]!;
        return `${r.title ?? ''} ${r.headings.join(' ')} ${t.rest}`;
      }),
    ),
  ]);
  const vectors: Float32Array[] = [];
  const texts = targets.flatMap((t) => [t.query, t.rest]);
  for (let i = 0; i < texts.length; i += 32)
    vectors.push(...(await o.embed(texts.slice(i, i + 32))));

  const passages: Passage[] = rows.map((r) => ({
    key: `${r.document_id}\u0000${r.chunk_index}`,
    documentId: r.document_id,
    terms: new Map(r.terms.map((t, j) => [t, r.tfs[j]!])),
    vector: Float32Array.from(r.e),
  }));
  const queries: JudgedQuery[] = targets.map((t, j) => {
    passages[t.row] = { ...passages[t.row]!, terms: restTerms[j]!, vector: vectors[2 * j + 1]! };
    return {
      terms: [...queryTerms[j]!.keys()],
      vector: vectors[2 * j]!,
      documentId: rows[t.row]!.document_id,
    };
  });
  const perQuery = scoreWeights(passages, queries);
  const best = chooseWeight(perQuery);
  return {
    source: 'self-calibrated',
    metric: 'ndcg@10',
    vectorWeight: GRID[best]!,
    score: mean(perQuery[best]!),
    keyword: mean(perQuery[0]!),
    vector: mean(perQuery[perQuery.length - 1]!),
    queries: queries.length,
    chunks: scope?.chunks ?? rows.length,
    sample: rows.length,
    at: new Date().toISOString(),
  };
}

/**
 * Stores a self-calibrated weight unless the collection has one calibrated on judged
 * queries or set by hand: those win, now and later (the condition is in the statement,
 * so one written meanwhile is never overwritten). Returns whether it was stored.
 */
export async function storeSelfCalibration(
  sql: Sql,
  key: { tenant: string; collection: string; modelId: string },
  c: SelfCalibration,
): Promise<boolean> {
  const rows = await sql`
    INSERT INTO search_fusion AS f (tenant, collection, model_id, vector_weight, calibration)
    VALUES (${key.tenant}, ${key.collection}, ${key.modelId}, ${c.vectorWeight}, ${JSON.stringify(c)}::jsonb)
    ON CONFLICT (tenant, collection, model_id) DO UPDATE SET
      vector_weight = EXCLUDED.vector_weight, calibration = EXCLUDED.calibration, updated_at = now()
    WHERE f.calibration->>'source' = 'self-calibrated'`;
  return rows.count > 0;
}
