import { headingPrefix, type MimeType } from '../../contracts/index.js';
import { parseBlocks, type Block } from './blocks.js';

export interface SplitOptions {
  /** Most tokens per chunk, heading prefix included, special tokens excluded. */
  maxTokens: number;
  /** Tokens of the previous chunk repeated at the start of the next. */
  overlapTokens: number;
  /** The embedding model's own token count (no special tokens). */
  countTokens: (text: string) => number;
}

export interface TextChunk {
  /** The chunk as cut from the document. */
  text: string;
  headings: string[];
  /** What is embedded: heading path, blank line, text. */
  embedText: string;
  /** Tokens of embedText. */
  tokens: number;
  start: number;
  end: number;
}

interface Piece {
  start: number;
  end: number;
  tokens: number;
}

const sentences = new Intl.Segmenter('en', { granularity: 'sentence' });

/**
 * Token-aware splitting with the model's tokenizer: whole paragraphs while they fit,
 * a paragraph too long for a chunk by sentences, a sentence too long by words, a word
 * too long by characters. Chunks never cross a markdown heading, carry their heading
 * path into what is embedded, and start with up to `overlapTokens` of the previous
 * chunk (whole sentences). Every chunk is re-counted: none exceeds `maxTokens`.
 */
export function splitDocument(text: string, mimeType: MimeType, o: SplitOptions): TextChunk[] {
  if (o.maxTokens < 8) throw new Error(`maxTokens must be at least 8, got ${o.maxTokens}`);
  const chunks: TextChunk[] = [];
  const blocks = parseBlocks(text, mimeType);
  for (let i = 0; i < blocks.length;) {
    const key = blocks[i]!.headings.join('\u0000');
    let j = i;
    while (j < blocks.length && blocks[j]!.headings.join('\u0000') === key) j++;
    chunks.push(...splitSection(text, blocks.slice(i, j), o));
    i = j;
  }
  return chunks;
}

function splitSection(text: string, blocks: Block[], o: SplitOptions): TextChunk[] {
  let headings = blocks[0]!.headings;
  // A heading path that eats the budget keeps its last heading only, or nothing.
  if (o.countTokens(headingPrefix(headings)) > o.maxTokens / 2) headings = headings.slice(-1);
  if (o.countTokens(headingPrefix(headings)) > o.maxTokens / 2) headings = [];
  const prefix = headingPrefix(headings);
  const budget = o.maxTokens - o.countTokens(prefix);

  const pieces: Piece[] = [];
  for (const b of blocks)
    pieces.push(...fit(text, b.start, b.end, budget, o.countTokens, 'paragraph'));

  const out: TextChunk[] = [];
  let current: Piece[] = [];
  let overlapCount = 0;
  let tokens = 0;
  let cursor = 0;
  const emit = (): void => {
    // Re-count the chunk as cut. Should joins cost tokens the sum missed, give the
    // overlap up first, then pieces back to the next chunk.
    for (;;) {
      const start = current[0]!.start;
      const end = current[current.length - 1]!.end;
      const embedText = prefix + text.slice(start, end);
      const exact = o.countTokens(embedText);
      if (exact <= o.maxTokens || current.length === 1) {
        out.push({ text: text.slice(start, end), headings, embedText, tokens: exact, start, end });
        return;
      }
      if (overlapCount > 0) {
        current.shift();
        overlapCount--;
      } else {
        pieces.splice(cursor, 0, current.pop()!);
      }
    }
  };
  for (;;) {
    const piece = pieces[cursor];
    if (piece !== undefined && tokens + piece.tokens <= budget) {
      current.push(piece);
      tokens += piece.tokens;
      cursor++;
      continue;
    }
    const previous = current;
    if (current.length > overlapCount) emit();
    if (cursor >= pieces.length) break;
    const next = pieces[cursor]!;
    current = tail(text, previous, Math.min(o.overlapTokens, budget - next.tokens), o.countTokens);
    overlapCount = current.length;
    tokens = current.reduce((n, p) => n + p.tokens, 0);
  }
  return out;
}

/** Splits [start, end) into pieces of at most `budget` tokens, at the coarsest level that fits. */
function fit(
  text: string,
  start: number,
  end: number,
  budget: number,
  count: (t: string) => number,
  level: 'paragraph' | 'sentence' | 'word',
  /** Tokens of [start, end), when already counted. */
  known?: number,
): Piece[] {
  if (level === 'paragraph') {
    // Count each sentence once; a paragraph that fits is their sum (the chunk is counted
    // exactly again when it is cut), one that does not is split at them.
    const sentences = [...sentenceSpans(text, start, end)].map(([s, e]) => ({
      start: s,
      end: e,
      tokens: count(text.slice(s, e)),
    }));
    const tokens = sentences.reduce((n, p) => n + p.tokens, 0);
    if (tokens <= budget) return sentences.length > 0 ? [{ start, end, tokens }] : [];
    return sentences.flatMap((p) =>
      p.tokens <= budget ? [p] : fit(text, p.start, p.end, budget, count, 'sentence', p.tokens),
    );
  }
  // A long span is tokenized once, not again at each level it falls through.
  const tokens = known ?? count(text.slice(start, end));
  if (tokens <= budget) return [{ start, end, tokens }];
  if (level === 'sentence') return words(text, start, end, budget, count, tokens);
  return characters(text, start, end, budget, count);
}

function* sentenceSpans(text: string, start: number, end: number): Generator<[number, number]> {
  for (const s of sentences.segment(text.slice(start, end))) {
    const lead = s.segment.length - s.segment.trimStart().length;
    const body = s.segment.trim();
    if (body !== '') yield [start + s.index + lead, start + s.index + lead + body.length];
  }
}

/** Packs words into windows of at most `budget` tokens; a word alone too long is cut by characters. */
function words(
  text: string,
  start: number,
  end: number,
  budget: number,
  count: (t: string) => number,
  /** Tokens of the whole span: a span that is one word is not counted again. */
  spanTokens: number,
): Piece[] {
  const out: Piece[] = [];
  let window: Piece | undefined;
  for (const m of text.slice(start, end).matchAll(/\S+/g)) {
    const ws = start + m.index;
    const we = ws + m[0].length;
    const t = ws === start && we === end ? spanTokens : count(m[0]);
    if (t > budget) {
      if (window) out.push(window);
      window = undefined;
      out.push(...characters(text, ws, we, budget, count));
    } else if (window && window.tokens + t <= budget) {
      window.end = we;
      window.tokens += t;
    } else {
      if (window) out.push(window);
      window = { start: ws, end: we, tokens: t };
    }
  }
  if (window) out.push(window);
  return out;
}

/**
 * Cuts a run of characters into the longest prefixes that fit. Each cut probes a window
 * as long as the previous cut, then extends it by what its token density says still
 * fits (at least doubling the step while it fits), and binary-searches between the last
 * window that fit and the first that did not. The work per cut is bounded by the cut's
 * own length, so a whole run costs time linear in its length (a 1 MB CJK run without
 * spaces: about ten tokenizer calls per cut). Never cuts a surrogate pair in two.
 */
function characters(
  text: string,
  start: number,
  end: number,
  budget: number,
  count: (t: string) => number,
): Piece[] {
  const out: Piece[] = [];
  let s = start;
  let guess = budget;
  while (s < end) {
    let lo = s + 1; // one character goes alone, whatever it costs
    let loTokens: number | undefined;
    let hi = end;
    let probe = Math.min(end, s + Math.max(2, guess));
    for (let step = 8; ; step *= 2) {
      const t = count(text.slice(s, probe));
      if (t > budget) {
        hi = probe - 1;
        break;
      }
      lo = probe;
      loTokens = t;
      if (probe === end) break;
      const room = Math.floor(((probe - s) * (budget - t)) / Math.max(t, 1));
      probe = Math.min(end, probe + Math.max(room + 1, step));
    }
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      const t = count(text.slice(s, mid));
      if (t <= budget) [lo, loTokens] = [mid, t];
      else hi = mid - 1;
    }
    if (lo < end && isLowSurrogate(text.charCodeAt(lo))) {
      lo = lo - 1 > s ? lo - 1 : Math.min(end, lo + 1);
      loTokens = undefined;
    }
    out.push({ start: s, end: lo, tokens: loTokens ?? count(text.slice(s, lo)) });
    guess = lo - s;
    s = lo;
  }
  return out;
}

const isLowSurrogate = (c: number): boolean => c >= 0xdc00 && c <= 0xdfff;

/** The last whole sentences of a chunk, at most `limit` tokens, to open the next one. */
function tail(text: string, chunk: Piece[], limit: number, count: (t: string) => number): Piece[] {
  if (limit <= 0 || chunk.length === 0) return [];
  const out: Piece[] = [];
  let used = 0;
  for (let i = chunk.length - 1; i >= 0; i--) {
    const p = chunk[i]!;
    if (used + p.tokens <= limit) {
      out.unshift(p);
      used += p.tokens;
      continue;
    }
    // Too big whole: take its last sentences that fit.
    const spans = [...sentenceSpans(text, p.start, p.end)];
    for (let k = spans.length - 1; k >= 0; k--) {
      const [s, e] = spans[k]!;
      const t = count(text.slice(s, e));
      if (used + t > limit) break;
      out.unshift({ start: s, end: e, tokens: t });
      used += t;
    }
    break;
  }
  return out;
}
