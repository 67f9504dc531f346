/**
 * Judged queries made from a collection's own text, for calibrating without labels.
 *
 * A sentence is held out of a chunk and becomes the query; what is left of the chunk is
 * the one relevant passage (the inverse cloze task). The held-out words are gone from
 * the passage, so a query finds it only through what the rest shares with it: words for
 * keyword search, meaning for vector search. A chunk of a single sentence is cut in two
 * halves instead. Chunks too short to leave both sides a few words make no query.
 */
export interface PseudoQuery {
  query: string;
  /** The chunk without the query: the passage the query must find. */
  rest: string;
}

/** Fewest words on each side of a held-out query. */
export const MIN_WORDS = 4;
/** Longest query kept, in words (a long sentence is cut, as people type short queries). */
export const MAX_QUERY_WORDS = 32;

const words = (s: string): string[] => s.split(/\s+/).filter(Boolean);

/** Sentence ends: . ! ? followed by space and a capital, digit, quote or bracket. */
export function sentences(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+(?=[\p{Lu}\p{N}"'([])/u)
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * Holds a sentence out of `text` (which one: `seed`, so runs are repeatable); a text of
 * one sentence is cut in halves, the query the half `seed` picks. Undefined when either
 * side would have fewer than MIN_WORDS words.
 */
export function holdOut(text: string, seed: number): PseudoQuery | undefined {
  const all = sentences(text);
  const usable = all.map((s, i) => ({ s, i })).filter(({ s }) => words(s).length >= MIN_WORDS);
  const pick = (n: number): number => ((Math.trunc(seed) % n) + n) % n;
  if (all.length >= 2 && usable.length > 0) {
    const { s, i } = usable[pick(usable.length)]!;
    const rest = all.filter((_, j) => j !== i).join(' ');
    if (words(rest).length >= MIN_WORDS)
      return { query: words(s).slice(0, MAX_QUERY_WORDS).join(' '), rest };
  }
  const w = words(text);
  if (w.length < 2 * MIN_WORDS) return undefined;
  const h = Math.floor(w.length / 2);
  const [a, b] = [w.slice(0, h), w.slice(h)];
  const [q, r] = pick(2) === 0 ? [a, b] : [b, a];
  return { query: q.slice(0, MAX_QUERY_WORDS).join(' '), rest: r.join(' ') };
}
