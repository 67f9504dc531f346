import { mean } from './metrics.js';

/** Fusion weights tried by calibration: 0, 0.05, …, 1 (first and last: one side alone). */
export const GRID: readonly number[] = Array.from({ length: 21 }, (_, i) => i / 20);

/**
 * Picks a fusion weight from per-query scores on the grid (first and last: one side
 * alone). The better of the two sides wins unless a mixed weight beats it on these
 * queries by more than chance: a paired t-test, one-sided at 97.5%. Without that guard
 * a weak model's noise wins ties and costs quality on unseen queries. Used by both
 * `sluice eval --calibrate` (judged queries) and self-calibration (generated ones).
 */
export function chooseWeight(perQuery: readonly (readonly number[])[]): number {
  const last = perQuery.length - 1;
  const side = mean(perQuery[last]!) > mean(perQuery[0]!) ? last : 0;
  let best = side;
  perQuery.forEach((s, i) => {
    if (mean(s) > mean(perQuery[best]!)) best = i;
  });
  if (best === 0 || best === last) return best;
  const d = perQuery[best]!.map((x, q) => x - perQuery[side]![q]!);
  const m = mean(d);
  const sd = Math.sqrt(d.reduce((a, x) => a + (x - m) ** 2, 0) / Math.max(1, d.length - 1));
  const t = sd === 0 ? (m > 0 ? Infinity : 0) : m / (sd / Math.sqrt(d.length));
  return t > 1.96 ? best : side;
}
