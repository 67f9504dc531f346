import type { Sql } from '../../db/index.js';
import { BM25, keywordTables } from './keyword-index.js';
import {
  chunkFilter,
  compareHits,
  head,
  Params,
  type ChunkKey,
  type HeldLists,
  type KeywordHit,
  type KeywordQuery,
  type KeywordStats,
} from './keyword-search.js';

/**
 * Keyword search over posting lists held in the API's memory, exact BM25 by definition:
 * every posting of the query's terms is scored, as the whole-list statement does in
 * PostgreSQL, but a list scores in microseconds from typed arrays where PostgreSQL spends
 * about a microsecond per posting row. At 1M chunks a query's terms hold 350k postings
 * (median of SciFact's test queries): 0.4 s as SQL, a few milliseconds here.
 *
 * PostgreSQL stays the truth. Each query reads its terms' statistics and generations
 * (keyword_terms.gen, which every writer of a term's postings changes) in one statement,
 * uses the lists in memory of exactly those generations, and loads the others; a query
 * never mixes a list with statistics of another moment. Lists are kept least recently
 * used first out, within a byte budget (SLUICE_KEYWORD_MEMORY); a term whose list would
 * take more than a quarter of it is left to the SQL plans (keyword-search.ts), as is
 * everything when the budget is 0.
 */
export class KeywordMemory implements HeldLists {
  private readonly lists = new Map<string, List>();
  private readonly dicts = new Map<string, Dict>();
  private listBytes = 0;
  /** The keyword_terms table the lists came from: a replay swaps in another one. */
  private rel: string | undefined;
  /** The chunks a query scored (small at first: it grows to the largest query's). */
  private touched = new Int32Array(64);
  private readonly loading = new Map<string, Promise<void>>();

  /** @param budget bytes the lists and their chunk dictionaries may take; 0: never used. */
  constructor(readonly budget: number) {}

  /** Bytes held now (lists, dictionaries, score buffers). */
  get bytes(): number {
    let b = this.listBytes;
    for (const d of this.dicts.values()) b += d.bytes;
    return b;
  }

  /** Lists held now. */
  get size(): number {
    return this.lists.size;
  }

  /**
   * The k best chunks by BM25, or undefined where memory does not answer (budget 0, a
   * list too large for it, the index changing under three tries in a row): the caller
   * runs its SQL plans then.
   *
   * @param only the chunks a metadata filter matches, where the caller found them all (a
   *   narrow filter): only those are ranked. Without it, a metadata filter is tested on
   *   candidates after ranking.
   * @param tests at most this many batches of candidates tested against a metadata
   *   filter; undefined if k did not pass by then (a narrow filter: the caller finds its
   *   chunks first instead).
   */
  async search(
    sql: Sql,
    q: KeywordQuery,
    k: number,
    only?: readonly ChunkKey[],
    tests = Infinity,
  ): Promise<{ hits: KeywordHit[]; stats: KeywordStats } | undefined> {
    if (this.budget <= 0 || q.terms.length === 0) return undefined;
    for (let attempt = 0; attempt < 3; attempt++) {
      const ps = new Params();
      // Prepared: planning this statement took longer than running it (1.1 against 0.2 ms).
      const heads = await sql.unsafe<Head[]>(headSql(q, ps), ps.values as never[], {
        prepare: true,
      });
      if (heads.length === 0)
        return { hits: [], stats: { plan: 'memory', rounds: 1, postings: 0, loaded: 0 } };
      const rel = String(heads[0]!.rel);
      if (rel !== this.rel) {
        this.clear();
        this.rel = rel;
      }
      if (heads.some((h) => h.df * POSTING_BYTES_MAX > this.budget / 4)) return undefined;
      const missing = heads.filter((h) => this.lists.get(keyOf(h))?.gen !== h.gen);
      const loaded = missing.length > 0 ? await this.load(sql, missing) : 0;
      // After the awaits: each list must be of the generation this query's statistics
      // were read with, and number its chunks with its scope's dictionary of now.
      const used: Used[] = [];
      for (const h of heads) {
        const key = keyOf(h);
        const list = this.lists.get(key);
        if (!list || list.gen !== h.gen || list.dict !== this.dicts.get(h.scope)) break;
        this.lists.delete(key);
        this.lists.set(key, list);
        used.push({ list, idf: Number(h.idf), avg: Math.max(Number(h.avg), 1) });
      }
      if (used.length < heads.length) continue;
      const postings = used.reduce((n, u) => n + u.list.ords.length, 0);
      const stats: KeywordStats = { plan: 'memory', rounds: 1, postings, loaded };
      const hits = await this.rank(sql, q, k, used, stats, only, tests);
      return hits && { hits, stats };
    }
    return undefined;
  }

  /**
   * The best k, filters applied: document ids as the chunks are ranked; a metadata filter
   * (one matching many chunks: the caller answers narrow ones from the filter's side) by
   * testing candidates best first in batches, each 8× larger, until k pass.
   */
  private async rank(
    sql: Sql,
    q: KeywordQuery,
    k: number,
    used: Used[],
    stats: KeywordStats,
    only: readonly ChunkKey[] | undefined,
    tests: number,
  ): Promise<KeywordHit[] | undefined> {
    const ids = q.filter?.documentIds?.length ? new Set(q.filter.documentIds) : undefined;
    const accept = (dict: Dict): ((o: number) => boolean) => {
      if (only) {
        const mask = new Uint8Array(dict.docs.length);
        for (const c of only)
          if (c.collection === dict.collection) {
            const o = dict.find(c.document_id, c.chunk_index);
            if (o !== undefined) mask[o] = 1;
          }
        return (o) => mask[o] === 1;
      }
      return ids ? (o) => ids.has(dict.docs[o]!) : () => true;
    };
    const metadata = !!q.filter?.metadata && Object.keys(q.filter.metadata).length > 0;
    if (!metadata || only) return this.best(used, k, accept).hits;
    const passed = new Map<string, boolean>();
    for (let want = Math.max(64, 8 * k), batch = 0; ; want *= 8, batch++) {
      const { hits, more } = this.best(used, want, accept);
      const unknown = hits.filter((h) => !passed.has(hitKey(h)));
      if (unknown.length > 0) {
        if (batch >= tests) return undefined;
        stats.rounds++;
        const ps = new Params();
        // LATERAL … LIMIT 1: each candidate's row looked up by its key. As a semi-join,
        // PostgreSQL read every chunk the filter matches through its GIN index (50k rows
        // for a filter matching half of 100k) to test 80 candidates.
        const ok = await sql.unsafe<{ o: number }[]>(
          `SELECT u.o FROM unnest(${ps.add(unknown.map((h) => h.collection))}::text[],
                                  ${ps.add(unknown.map((h) => h.document_id))}::text[],
                                  ${ps.add(unknown.map((h) => h.chunk_index))}::int[]) WITH ORDINALITY AS u(c, d, i, o)
           CROSS JOIN LATERAL (
             SELECT 1 FROM index_chunks m WHERE ${chunkFilter(q, ps, 'm')}
               AND m.collection = u.c AND m.document_id = u.d AND m.chunk_index = u.i
             LIMIT 1) m`,
          ps.values as never[],
        );
        const good = new Set(ok.map((r) => Number(r.o) - 1));
        unknown.forEach((h, j) => passed.set(hitKey(h), good.has(j)));
      }
      const kept = hits.filter((h) => passed.get(hitKey(h)));
      if (kept.length >= k || !more) return kept.slice(0, k);
    }
  }

  /** The best `want` chunks over every scope that `accept` lets in (and whether there were more). */
  private best(
    used: Used[],
    want: number,
    accept: (dict: Dict) => (o: number) => boolean,
  ): { hits: KeywordHit[]; more: boolean } {
    const byDict = new Map<Dict, Used[]>();
    for (const u of used) byDict.set(u.list.dict, [...(byDict.get(u.list.dict) ?? []), u]);
    const hits: KeywordHit[] = [];
    let more = false;
    for (const [dict, lists] of byDict) {
      const r = this.bestOf(dict, lists, want, accept(dict));
      hits.push(...r.hits);
      more ||= r.more;
    }
    hits.sort(compareHits);
    return { hits: hits.slice(0, want), more: more || hits.length > want };
  }

  /** One scope: every posting of its lists summed per chunk, the best `want` taken. */
  private bestOf(
    dict: Dict,
    lists: Used[],
    want: number,
    accept: (o: number) => boolean,
  ): { hits: KeywordHit[]; more: boolean } {
    const acc = dict.scratch();
    let n = 0;
    for (const { list, idf, avg } of lists) {
      const { ords, tf, len } = list;
      if (this.touched.length < n + ords.length) {
        const grown = new Int32Array(Math.max(2 * this.touched.length, n + ords.length));
        grown.set(this.touched.subarray(0, n));
        this.touched = grown;
      }
      const touched = this.touched;
      // The SQL of impactSql, operation for operation: the same float8 results.
      for (let i = 0; i < ords.length; i++) {
        const o = ords[i]!;
        const t = tf[i]!;
        const w = idf * ((t * K1_PLUS_1) / (t + K1 * (ONE_MINUS_B + (B * len[i]!) / avg)));
        // Every weight is > 0 (idf > 0, tf ≥ 1): a chunk at 0 is one not seen yet.
        if (acc[o] === 0) touched[n++] = o;
        acc[o] = acc[o]! + w;
      }
    }
    const touched = this.touched;
    // The want-th best score by a min-heap of scores, then every chunk at or above it.
    const heap = new Float64Array(want);
    let size = 0;
    let total = 0;
    for (let j = 0; j < n; j++) {
      const o = touched[j]!;
      if (!accept(o)) continue;
      total++;
      const s = acc[o]!;
      if (size < want) {
        heap[size++] = s;
        siftUp(heap, size - 1);
      } else if (s > heap[0]!) {
        heap[0] = s;
        siftDown(heap, size);
      }
    }
    const floor = size < want ? -Infinity : heap[0]!;
    const hits: KeywordHit[] = [];
    for (let j = 0; j < n; j++) {
      const o = touched[j]!;
      const s = acc[o]!;
      acc[o] = 0;
      if (s >= floor && accept(o))
        hits.push({
          collection: dict.collection,
          document_id: dict.docs[o]!,
          chunk_index: dict.chunks[o]!,
          score: s,
        });
    }
    hits.sort(compareHits);
    return { hits: hits.slice(0, want), more: total > want };
  }

  /** Loads the lists of these terms (one statement); returns the postings loaded. */
  private async load(sql: Sql, heads: Head[]): Promise<number> {
    const keys = heads.map(keyOf).join('\u0001');
    // Queries that miss the same lists at once load them once.
    const pending = this.loading.get(keys);
    if (pending) {
      await pending;
      return 0;
    }
    let loaded = 0;
    const run = (async (): Promise<void> => {
      const { terms, postings } = keywordTables;
      const rows = await sql.unsafe<Loaded[]>(
        `SELECT k.scope::text AS scope, k.term, k.gen::text AS gen,
                (SELECT json_build_array(json_agg(x.document_id), json_agg(x.chunk_index), json_agg(x.tf), json_agg(x.length))
                 FROM ${postings} x WHERE x.scope = k.scope AND x.term = k.term) AS p
         FROM ${terms} k JOIN unnest($1::int8[], $2::text[]) AS u(s, t) ON k.scope = u.s AND k.term = u.t`,
        [heads.map((h) => h.scope), heads.map((h) => h.term)] as never[],
      );
      const want = new Map(heads.map((h) => [keyOf(h), h]));
      for (const r of rows) {
        const h = want.get(keyOf(r));
        // Changed since the query read its statistics: the check after the load retries.
        if (!h || h.gen !== r.gen) continue;
        const [docs, chunks, tfs, lens] = (r.p ?? [[], [], [], []]) as [
          string[] | null,
          number[] | null,
          number[] | null,
          number[] | null,
        ];
        const dict = this.dictFor(h);
        const m = docs?.length ?? 0;
        const ords = new Int32Array(m);
        for (let i = 0; i < m; i++) ords[i] = dict.ord(docs![i]!, chunks![i]!);
        const tf = narrow(tfs ?? []);
        const len = narrow(lens ?? []);
        loaded += m;
        this.put({
          key: keyOf(h),
          scope: h.scope,
          gen: r.gen,
          dict,
          ords,
          tf,
          len,
          bytes: ords.byteLength + tf.byteLength + len.byteLength + 200,
        });
      }
    })();
    this.loading.set(keys, run);
    try {
      await run;
    } finally {
      this.loading.delete(keys);
    }
    return loaded;
  }

  /**
   * The scope's dictionary; a new one where it has grown past twice the scope's chunks
   * (deleted and replaced chunks keep their ordinals until then).
   */
  private dictFor(h: Head): Dict {
    const d = this.dicts.get(h.scope);
    if (d && d.docs.length <= 2 * Number(h.n) + 1024) return d;
    if (d) this.dropScope(h.scope);
    const fresh = new Dict(h.collection);
    this.dicts.set(h.scope, fresh);
    return fresh;
  }

  private put(list: List): void {
    const old = this.lists.get(list.key);
    if (old) this.remove(old);
    this.lists.set(list.key, list);
    list.dict.lists++;
    this.listBytes += list.bytes;
    // Least recently used first; the lists this query holds stay usable by reference.
    for (const l of this.lists.values()) {
      if (this.bytes <= this.budget || l === list) break;
      this.remove(l);
    }
  }

  private remove(l: List): void {
    this.lists.delete(l.key);
    this.listBytes -= l.bytes;
    if (--l.dict.lists === 0 && this.dicts.get(l.scope) === l.dict) this.dicts.delete(l.scope);
  }

  private dropScope(scope: string): void {
    for (const l of [...this.lists.values()]) if (l.scope === scope) this.remove(l);
    this.dicts.delete(scope);
  }

  /** Forgets every list. */
  clear(): void {
    this.lists.clear();
    this.dicts.clear();
    this.listBytes = 0;
  }
}

const K1_PLUS_1 = BM25.k1 + 1;
const K1 = BM25.k1;
const ONE_MINUS_B = 1 - BM25.b;
const B = BM25.b;
/** The most a posting takes in memory: ordinal, tf and length of 4 bytes each. */
const POSTING_BYTES_MAX = 12;

interface Head {
  scope: string;
  collection: string;
  term: string;
  df: number;
  idf: number;
  avg: number;
  n: number;
  gen: string;
  rel: string;
}

interface Loaded {
  scope: string;
  term: string;
  gen: string;
  p: unknown;
}

interface List {
  key: string;
  scope: string;
  gen: string;
  dict: Dict;
  /** Chunk ordinals in the scope's dictionary, with each posting's tf and chunk length. */
  ords: Int32Array;
  tf: Uint16Array | Uint32Array;
  len: Uint16Array | Uint32Array;
  bytes: number;
}

interface Used {
  list: List;
  idf: number;
  avg: number;
}

/** A scope's chunks by ordinal, and the buffer its scores are summed in. */
class Dict {
  private readonly byDoc = new Map<string, number[]>();
  readonly docs: string[] = [];
  readonly chunks: number[] = [];
  private acc = new Float64Array(0);
  /** Lists held that number their chunks with it. */
  lists = 0;

  constructor(readonly collection: string) {}

  ord(doc: string, chunk: number): number {
    let byChunk = this.byDoc.get(doc);
    if (!byChunk) {
      byChunk = [];
      this.byDoc.set(doc, byChunk);
    }
    let o = byChunk[chunk];
    if (o === undefined) {
      o = this.docs.length;
      byChunk[chunk] = o;
      this.docs.push(doc);
      this.chunks.push(chunk);
    }
    return o;
  }

  /** The chunk's ordinal, if any list numbered it. */
  find(doc: string, chunk: number): number | undefined {
    return this.byDoc.get(doc)?.[chunk];
  }

  /** All zeros, one slot per chunk (scoring leaves it all zeros again). */
  scratch(): Float64Array {
    if (this.acc.length < this.docs.length)
      this.acc = new Float64Array(Math.max(this.docs.length, 2 * this.acc.length));
    return this.acc;
  }

  /** Roughly: a Map entry and two array slots per chunk, and the score buffer. */
  get bytes(): number {
    return this.docs.length * 96 + this.acc.byteLength;
  }
}

const keyOf = (h: { scope: string; term: string }): string => `${h.scope}\u0000${h.term}`;
const hitKey = (h: KeywordHit): string =>
  `${h.collection}\u0000${h.document_id}\u0000${h.chunk_index}`;

function narrow(xs: number[]): Uint16Array | Uint32Array {
  let max = 0;
  for (const x of xs) if (x > max) max = x;
  return max <= 0xffff ? Uint16Array.from(xs) : Uint32Array.from(xs);
}

/** The query terms' statistics and generations, per scope, with the terms table's id. */
function headSql(q: KeywordQuery, ps: Params): string {
  return `
    WITH ${head(q, ps)}
    SELECT w.scope::text AS scope, w.collection, w.term, w.df, w.idf, w.avg, w.n, w.gen::text AS gen,
           '${keywordTables.terms}'::regclass::oid::text AS rel
    FROM w`;
}

function siftUp(h: Float64Array, i: number): void {
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (h[p]! <= h[i]!) return;
    [h[p], h[i]] = [h[i]!, h[p]!];
    i = p;
  }
}

function siftDown(h: Float64Array, size: number): void {
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let m = i;
    if (l < size && h[l]! < h[m]!) m = l;
    if (r < size && h[r]! < h[m]!) m = r;
    if (m === i) return;
    [h[m], h[i]] = [h[i]!, h[m]!];
    i = m;
  }
}
