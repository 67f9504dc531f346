/**
 * Retrieval metrics as BEIR reports them (pytrec_eval): nDCG@k with linear gains,
 * recall@k and MRR@k, over documents. Search returns chunks; a document ranks where its
 * best chunk does (the first time it appears).
 */

/** Graded relevance of documents for one query (qrels: document id → grade > 0). */
export type Judgements = ReadonlyMap<string, number>;

/** Document ids in the order of their first chunk in a ranked list of chunk hits. */
export function foldToDocuments(hits: readonly { documentId: string }[]): string[] {
  const seen = new Set<string>();
  for (const h of hits) seen.add(h.documentId);
  return [...seen];
}

export function ndcgAt(ranked: readonly string[], rel: Judgements, k: number): number {
  let dcg = 0;
  ranked.slice(0, k).forEach((d, i) => {
    dcg += (rel.get(d) ?? 0) / Math.log2(i + 2);
  });
  const ideal = [...rel.values()]
    .filter((g) => g > 0)
    .sort((a, b) => b - a)
    .slice(0, k)
    .reduce((s, g, i) => s + g / Math.log2(i + 2), 0);
  return ideal > 0 ? dcg / ideal : 0;
}

export function recallAt(ranked: readonly string[], rel: Judgements, k: number): number {
  const relevant = [...rel.entries()].filter(([, g]) => g > 0).map(([d]) => d);
  if (relevant.length === 0) return 0;
  const top = new Set(ranked.slice(0, k));
  return relevant.filter((d) => top.has(d)).length / relevant.length;
}

export function mrrAt(ranked: readonly string[], rel: Judgements, k: number): number {
  const i = ranked.slice(0, k).findIndex((d) => (rel.get(d) ?? 0) > 0);
  return i < 0 ? 0 : 1 / (i + 1);
}

export const mean = (xs: readonly number[]): number =>
  xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;

/** The p-th percentile (nearest rank) of a list of numbers. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return 0;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[
    Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  ]!;
}
