/**
 * Hybrid fusion: a convex combination of min-max normalised scores,
 *
 *   fused = w · norm(vector score) + (1 − w) · norm(BM25 score),
 *
 * over the union of both candidate lists; a hit missing from one list gets 0 there.
 * Unlike reciprocal rank fusion it sees how far apart scores are, and with w = 0 or 1
 * it is exactly one of its parts, so a weight calibrated on a collection's own queries
 * never does worse there than its best part (docs/search.md).
 */
export interface Scored {
  /** Identifies a chunk across both lists. */
  key: string;
  score: number;
}

/** Weight of the vector side when a collection has none calibrated or configured. */
export const DEFAULT_VECTOR_WEIGHT = 0.5;

/** Candidates taken from each side before fusing (the API's largest k). */
export const FUSION_CANDIDATES = 100;

/** Scores mapped onto 0…1 by the list's own minimum and maximum; a flat list maps to 1. */
export function normalise(list: readonly Scored[]): Map<string, number> {
  let min = Infinity;
  let max = -Infinity;
  for (const { score } of list) {
    if (score < min) min = score;
    if (score > max) max = score;
  }
  const span = max - min;
  return new Map(list.map(({ key, score }) => [key, span > 0 ? (score - min) / span : 1]));
}

/**
 * Fuses two ranked lists. A tie (each list's last hit normalises to 0, as do hits it
 * lacks) goes to the hit found by the side with more weight, then to the better place
 * on that side, then on the other, then to the key that sorts first: results are stable,
 * w = 0 or 1 gives exactly one list's order, and a side that found nothing leaves the
 * other's order intact.
 */
export function fuse(
  vector: readonly Scored[],
  keyword: readonly Scored[],
  vectorWeight: number,
): Scored[] {
  const w = Math.min(1, Math.max(0, vectorWeight));
  const v = normalise(vector);
  const k = normalise(keyword);
  const [heavy, light] = w > 0.5 ? [v, k] : [k, v];
  const keys = new Set([...v.keys(), ...k.keys()]);
  return [...keys]
    .map((key) => ({
      key,
      score: w * (v.get(key) ?? 0) + (1 - w) * (k.get(key) ?? 0),
      found: (v.has(key) ? w : 0) + (k.has(key) ? 1 - w : 0),
      heavy: heavy.get(key) ?? -1,
      light: light.get(key) ?? -1,
    }))
    .sort(
      (a, b) =>
        b.score - a.score ||
        b.found - a.found ||
        b.heavy - a.heavy ||
        b.light - a.light ||
        (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
    )
    .map(({ key, score }) => ({ key, score }));
}
