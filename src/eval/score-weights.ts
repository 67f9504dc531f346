// The indexer's self-calibration uses eval's metrics: eval takes the fusion formula from
// its file, not the indexer's index.ts, or the two slices would import each other.
// eslint-disable-next-line no-restricted-imports
import { fuse, FUSION_CANDIDATES, type Scored } from '../consumers/indexer/fusion.js';
// eslint-disable-next-line no-restricted-imports
import { BM25 } from '../consumers/indexer/keyword-index.js';
import { GRID } from './choose-weight.js';
import { foldToDocuments, ndcgAt } from './metrics.js';

/** A passage of the in-memory collection: its lexemes with frequencies and its vector. */
export interface Passage {
  key: string;
  documentId: string;
  terms: ReadonlyMap<string, number>;
  vector: Float32Array;
}

/** A query with its lexemes, its vector and the one document it must find. */
export interface JudgedQuery {
  terms: readonly string[];
  vector: Float32Array;
  documentId: string;
}

const dot = (a: Float32Array, b: Float32Array): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};
const norm = (a: Float32Array): number => Math.sqrt(dot(a, a)) || 1;

function top(scores: Scored[], n: number): Scored[] {
  return scores
    .sort((a, b) => b.score - a.score || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .slice(0, n);
}

/**
 * nDCG@10 of every query at every weight of GRID, over a small collection held in
 * memory: BM25 as the keyword index scores (k1, b and idf of keyword-index.ts, statistics
 * of this collection), cosine similarity as the vector index, each side's best
 * FUSION_CANDIDATES fused by the same function as the API. Rows: weights; columns:
 * queries (what chooseWeight takes).
 */
export function scoreWeights(
  passages: readonly Passage[],
  queries: readonly JudgedQuery[],
): number[][] {
  const n = passages.length;
  const df = new Map<string, number>();
  const lengths = passages.map((p) => {
    let len = 0;
    for (const [t, tf] of p.terms) {
      df.set(t, (df.get(t) ?? 0) + 1);
      len += tf;
    }
    return len;
  });
  const avg = Math.max(1, lengths.reduce((a, b) => a + b, 0) / Math.max(1, n));
  const norms = passages.map((p) => norm(p.vector));
  const docOf = new Map(passages.map((p) => [p.key, p.documentId]));
  const rows = GRID.map(() => [] as number[]);
  for (const q of queries) {
    const qn = norm(q.vector);
    const vector = top(
      passages.map((p, i) => ({ key: p.key, score: dot(p.vector, q.vector) / (norms[i]! * qn) })),
      FUSION_CANDIDATES,
    );
    const idf = [...new Set(q.terms)].flatMap((t) => {
      const d = df.get(t) ?? 0;
      return d > 0 ? [{ t, idf: Math.log(1 + (n - d + 0.5) / (d + 0.5)) }] : [];
    });
    const keyword = top(
      passages.flatMap((p, i) => {
        let s = 0;
        for (const { t, idf: w } of idf) {
          const tf = p.terms.get(t);
          if (tf)
            s +=
              (w * tf * (BM25.k1 + 1)) /
              (tf + BM25.k1 * (1 - BM25.b + (BM25.b * lengths[i]!) / avg));
        }
        return s > 0 ? [{ key: p.key, score: s }] : [];
      }),
      FUSION_CANDIDATES,
    );
    const rel = new Map([[q.documentId, 1]]);
    GRID.forEach((w, g) => {
      const fused = fuse(vector, keyword, w).slice(0, FUSION_CANDIDATES);
      const ranked = foldToDocuments(fused.map((f) => ({ documentId: docOf.get(f.key)! })));
      rows[g]!.push(ndcgAt(ranked, rel, 10));
    });
  }
  return rows;
}
