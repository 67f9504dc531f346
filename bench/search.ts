/**
 * Search latency: POST /v1/search (a Sluice API process under autocannon) against the
 * same SQL run directly, per mode, over 100k indexed chunks, in one run.
 *
 *   npm run bench:search -- [--chunks 100000] [--seconds 10] [--connections 8] [--modes vector,keyword,hybrid] [--exact-queries 300] [--queries 1109] [--keyword-memory MB] [--search-connections N] [--json FILE] [--keep]
 *
 * Also: every query's keyword top 10 against scoring every posting (exactness, postings
 * read per query), unfiltered and with metadata filters matching 1% and 50% of chunks,
 * and the latency of those filtered searches.
 *
 * Each mode runs with one connection (latency) and with --connections (throughput; on 2
 * cores that saturates the machine, so latency there is mostly queueing).
 *
 * Index: SciFact passages (read from ../shared at run time) split into chunks and
 * embedded with sluice-static-384, replicated with small noise up to --chunks, bulk
 * loaded, then HNSW-indexed. Queries: SciFact claims (all 1,109, or the first --queries). The API serves the same model, so
 * query embedding is part of every vector and hybrid request. MiniLM-sized query
 * embedding is measured on its own (minilm-l6-random) for comparison.
 *
 * Keyword posting lists are held in memory (SLUICE_KEYWORD_MEMORY, --keyword-memory MB,
 * default 256; 0: SQL alone) by the API and by the direct runs. The timed runs start
 * with them loaded (each query asked once before); the first pass, lists loaded from
 * PostgreSQL as the queries need them, is measured as a row of its own.
 *
 * --json FILE also writes the figures as JSON (`SearchFigures`), for `bench:growth`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import autocannon from 'autocannon';
import { createKey } from '../src/api/keys.js';
import { searchConnections } from '../src/config/index.js';
import { impactSql } from '../src/consumers/indexer/keyword-index.js';
import { KeywordMemory } from '../src/consumers/indexer/keyword-memory.js';
import {
  queryTerms,
  search,
  type SearchMode,
  type SearchParams,
} from '../src/consumers/indexer/search.js';
import { hnswIndexName, indexTables, VectorIndex } from '../src/consumers/indexer/store.js';
import { createDatabase } from '../src/db/index.js';
import { Embedder, describeModel } from '../src/models/index.js';
import { deleteNamespace } from '../src/topology/index.js';
import {
  apiProcess,
  benchDatabase,
  benchNamespace,
  flag,
  machine,
  percentile,
  servers,
  sharedDir,
  table,
  textFlag,
} from './lib.js';

const CHUNKS = flag('chunks', 100_000);
const SECONDS = flag('seconds', 10);
/** Queries checked against exhaustive BM25 (each filter). */
const EXACT_QUERIES = flag('exact-queries', 300);
const LOADS = [1, flag('connections', 8)];
/**
 * PostgreSQL connections of the API's searches (SLUICE_SEARCH_CONNECTIONS), and of the
 * direct runs, so that both sides queue the same way (the direct rows include waiting
 * for a connection). Default: the API's (one per usable core, at least 2, at most 10).
 */
const POOL = searchConnections(flag('search-connections', 0));
const MEMORY_MB = flag('keyword-memory', 256);
/** SciFact queries asked (the first N of its 1,109): the warm-up passes ask each once. */
const QUERIES = flag('queries', 1109);
const MODEL = 'sluice-static-384';
const MODELS_DIR = join(sharedDir, 'models');
const modes = (textFlag('modes') ?? 'vector,keyword,hybrid').split(',') as SearchMode[];
const JSON_OUT = textFlag('json');

/** What one run measured, for charts across sizes (`--json`). Latencies in ms. */
export interface SearchFigures {
  chunks: number;
  machine: string;
  date: string;
  loadSeconds: number;
  hnswSeconds: number | null;
  keywordBuildSeconds: number;
  postings: number;
  /** mode → connections → latency through HTTP and in SQL alone. */
  latency: Record<
    string,
    Record<string, { sqlP50: number; sqlP99: number; httpP50: number; httpP99: number }>
  >;
  /** keyword top 10 against exhaustive BM25, per filter ('none', '{"p1":true}', …). */
  exact: Record<
    string,
    { queries: number; equalPct: number; postingsReadP50: number; postingsReadP99: number }
  >;
  /** keyword search, 1 connection, in process, the first time each query is asked (lists loaded). */
  cold?: { p50: number; p99: number; queries: number; listsMB: number };
  /** filtered keyword search, 1 connection. */
  filtered: Record<string, { sqlP50: number; sqlP99: number; httpP50: number; httpP99: number }>;
}

function scifact(): { passages: string[]; queries: string[] } {
  const passages = readFileSync(join(sharedDir, 'datasets/scifact/corpus.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .flatMap((l) => {
      const d = JSON.parse(l) as { title: string; text: string };
      // Split on sentences into ~120-word chunks.
      const words = `${d.title}. ${d.text}`.split(/\s+/);
      const out: string[] = [];
      for (let i = 0; i < words.length; i += 120) out.push(words.slice(i, i + 120).join(' '));
      return out;
    });
  const queries = readFileSync(join(sharedDir, 'datasets/scifact/queries.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { text: string }).text)
    .slice(0, QUERIES);
  return { passages, queries };
}

function jitter(v: Float32Array, seed: number): Float32Array {
  let s = seed;
  const rand = (): number => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  const out = new Float32Array(v.length);
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    out[i] = v[i]! + 0.03 * rand();
    n += out[i]! * out[i]!;
  }
  for (let i = 0; i < v.length; i++) out[i]! /= Math.sqrt(n) || 1;
  return out;
}

async function main(): Promise<void> {
  const { natsUrl, databaseUrl } = servers();
  const db = await benchDatabase(databaseUrl);
  // The API process declares its streams here; they are deleted at the end.
  const namespace = benchNamespace('bsr');
  const database = createDatabase({
    url: db.url,
    max: POOL,
    // A million-chunk load and its index builds outlast a query's statement_timeout.
    statementTimeoutMs: 0,
    // Every connection's: a SET on the pool would reach one of them.
    settings: {
      'hnsw.ef_search': '100',
      'hnsw.iterative_scan': 'relaxed_order',
      maintenance_work_mem: '512MB',
    },
  });
  const sql = database.sql;
  const { passages, queries } = scifact();
  const spec = await describeModel(MODELS_DIR, MODEL, 'auto');
  const embedder = await Embedder.load(spec, { provider: 'cpu', threads: 2, batchSize: 32 });
  try {
    // Chunks past the corpus reuse its vectors, jittered: a small run embeds only its own.
    const distinct = Math.min(CHUNKS, passages.length);
    process.stderr.write(`embedding ${distinct} SciFact chunks with ${MODEL}…\n`);
    const base = await embedder.embed(passages.slice(0, distinct), { truncate: true });
    process.stderr.write(`loading ${CHUNKS} chunks…\n`);
    const t0 = performance.now();
    for (let start = 0; start < CHUNKS; start += 2000) {
      const n = Math.min(2000, CHUNKS - start);
      const rows = Array.from({ length: n }, (_, j) => {
        const i = start + j;
        const p = i % passages.length;
        const v = i < passages.length ? base[p]! : jitter(base[p]!, i);
        return {
          doc: `d${Math.floor(i / 2)}`,
          idx: i % 2,
          text: passages[p]!,
          vec: `[${Array.from(v, (x) => x.toPrecision(7)).join(',')}]`,
          topic: `t${i % 10}`,
          // Filters matching 1% and 50% of chunks.
          p1: i % 100 === 0,
          p50: i % 2 === 0,
        };
      });
      await sql`
        INSERT INTO index_chunks (model_id, tenant, collection, document_id, chunk_index, chunk_id, version, content_hash, text,
                                  headings, title, uri, metadata, embedding, tsv)
        SELECT ${spec.id}, 'bench', 'scifact', d, i, md5(d || i), 1, md5(t), t, '{}', d, null,
               jsonb_build_object('topic', tp, 'p1', p1, 'p50', p50), e::vector, to_tsvector('english', t)
        FROM unnest(${rows.map((r) => r.doc)}::text[], ${rows.map((r) => r.idx)}::int[], ${rows.map((r) => r.text)}::text[],
                    ${rows.map((r) => r.vec)}::text[], ${rows.map((r) => r.topic)}::text[],
                    ${rows.map((r) => String(r.p1))}::text[]::bool[], ${rows.map((r) => String(r.p50))}::text[]::bool[]) AS u(d, i, t, e, tp, p1, p50)`;
    }
    const loaded = (performance.now() - t0) / 1000;
    const t1 = performance.now();
    // Keyword-only runs skip the HNSW index (minutes at 100k on 2 cores).
    if (modes.some((m) => m !== 'keyword'))
      await sql.unsafe(
        `CREATE INDEX ${hnswIndexName(spec.id)} ON index_chunks USING hnsw ((embedding::vector(384)) vector_cosine_ops) WHERE model_id = '${spec.id}'`,
      );
    // Settled as autovacuum leaves a table soon after a load, so it does not run mid-measurement.
    await sql.unsafe('VACUUM ANALYZE index_chunks');
    const indexed = (performance.now() - t1) / 1000;
    // The keyword index, built by the bulk path a replay of the index takes: the
    // statement the indexer runs per batch, over all rows, its B-trees built after.
    const t2 = performance.now();
    await new VectorIndex(sql, indexTables, false).rebuildKeywords();
    // What autovacuum does soon after a load: sets the visibility map for index-only scans.
    await sql.unsafe('VACUUM ANALYZE keyword_postings, keyword_terms, keyword_scopes');
    const keywordBuilt = (performance.now() - t2) / 1000;
    const [{ postings }] =
      (await sql`SELECT count(*)::int AS postings FROM keyword_postings`) as unknown as [
        { postings: number },
      ];
    await sql`INSERT INTO proj_collections (tenant, collection, document_count) VALUES ('bench', 'scifact', ${Math.ceil(CHUNKS / 2)})`;
    const { key } = await createKey(sql, { tenant: 'bench' });

    // The API in a process of its own, as deployed.
    const api = await apiProcess({
      NATS_URL: natsUrl,
      DATABASE_URL: db.url,
      SLUICE_NAMESPACE: namespace,
      SLUICE_MODELS_DIR: MODELS_DIR,
      SLUICE_MODELS: MODEL,
      SLUICE_RATE_LIMIT: '1000000',
      SLUICE_EMBED_THREADS: '1',
      SLUICE_KEYWORD_MEMORY: `${MEMORY_MB}M`,
      SLUICE_SEARCH_CONNECTIONS: String(POOL),
    });
    const memory = new KeywordMemory(MEMORY_MB * 1024 ** 2);
    const address = api.address;

    const vectors = await embedder.embed(queries, { truncate: true });
    const terms = await Promise.all(queries.map((q) => queryTerms(sql, q)));
    const rows: (string | number)[][] = [];
    /** Query i of the set, as the API would search it (same function), in one mode. */
    const ask = (
      i: number,
      mode: SearchMode,
      extra: Partial<Pick<SearchParams, 'filter' | 'onKeywordStats'>> = {},
    ) =>
      search(sql, {
        tenant: 'bench',
        collection: 'scifact',
        modelId: spec.id,
        dimensions: 384,
        mode,
        terms: terms[i]!,
        vector: vectors[i]!,
        k: 10,
        keywordMemory: memory,
        ...extra,
      });
    /** The very SQL the API runs (same function), query vectors and terms computed beforehand. */
    const direct = async (
      mode: SearchMode,
      connections: number,
      extra: Partial<Pick<SearchParams, 'filter' | 'onKeywordStats'>> = {},
    ) => {
      let q = 0;
      const lat: number[] = [];
      const until = performance.now() + SECONDS * 1000;
      await Promise.all(
        Array.from({ length: connections }, async () => {
          while (performance.now() < until) {
            const i = q++ % queries.length;
            const s = performance.now();
            await ask(i, mode, extra);
            lat.push(performance.now() - s);
          }
        }),
      );
      return { p50: percentile(lat, 50), p99: percentile(lat, 99), rps: lat.length / SECONDS };
    };
    // Exactness: every query's keyword top 10 against scoring every posting of its terms.
    const exhaustive = async (t: string[], filter?: Record<string, unknown>): Promise<number[]> => {
      const meta = filter
        ? `AND EXISTS (SELECT 1 FROM index_chunks m WHERE m.model_id = '${spec.id}' AND m.tenant = 'bench'
             AND m.collection = 'scifact' AND m.document_id = x.document_id AND m.chunk_index = x.chunk_index
             AND m.metadata @> '${JSON.stringify(filter)}'::jsonb)`
        : '';
      const r = await sql.unsafe<{ score: number }[]>(
        `WITH s AS (SELECT scope, chunks::float8 AS n, total_length::float8 / greatest(chunks, 1) AS avg
                    FROM keyword_scopes WHERE tenant = 'bench' AND collection = 'scifact'),
         w AS (SELECT s.scope, s.avg, k.term, ln(1 + (s.n - k.df + 0.5) / (k.df + 0.5)) AS idf
               FROM s JOIN keyword_terms k ON k.scope = s.scope WHERE k.term = ANY($1::text[]))
         SELECT sum(w.idf * ${impactSql('x.tf', 'x.length', 'w.avg')}) AS score
         FROM w JOIN keyword_postings x ON x.scope = w.scope AND x.term = w.term WHERE true ${meta}
         GROUP BY x.document_id, x.chunk_index ORDER BY score DESC LIMIT 10`,
        [t] as never[],
      );
      return r.map((x) => Number(x.score));
    };
    const figures: SearchFigures = {
      chunks: CHUNKS,
      machine: machine(),
      date: new Date().toISOString().slice(0, 10),
      loadSeconds: loaded,
      hnswSeconds: modes.some((m) => m !== 'keyword') ? indexed : null,
      keywordBuildSeconds: keywordBuilt,
      postings,
      latency: {},
      exact: {},
      filtered: {},
    };
    // The first time each query is asked: its lists loaded from PostgreSQL as it needs them.
    const cold: number[] = [];
    for (const [i, t] of terms.entries()) {
      if (t.length === 0) continue;
      const s0 = performance.now();
      await ask(i, 'keyword');
      cold.push(performance.now() - s0);
    }
    figures.cold = {
      p50: percentile(cold, 50),
      p99: percentile(cold, 99),
      queries: cold.length,
      listsMB: memory.bytes / 1024 ** 2,
    };
    process.stderr.write('first pass done\n');
    // The API's lists, loaded the same way before its timed runs.
    for (const query of queries) {
      const r = await fetch(`${address}/v1/search`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ query, mode: 'keyword', collection: 'scifact', k: 10 }),
      });
      if (r.status !== 200 && r.status !== 400) throw new Error(`warm-up: HTTP ${r.status}`);
    }
    const exactRows: (string | number)[][] = [];
    for (const filter of [undefined, { p1: true }, { p50: true }]) {
      let equal = 0;
      let asked = 0;
      const read: number[] = [];
      const rounds: number[] = [];
      const plans = new Set<string>();
      const full: number[] = [];
      for (const [i, t] of terms.slice(0, EXACT_QUERIES).entries()) {
        if (t.length === 0) continue;
        asked++;
        const s0 = performance.now();
        const want = await exhaustive(t, filter);
        full.push(performance.now() - s0);
        const got = await ask(i, 'keyword', {
          ...(filter ? { filter: { metadata: filter } } : {}),
          onKeywordStats: (st) => {
            read.push(st.postings);
            rounds.push(st.rounds);
            plans.add(st.plan);
          },
        });
        if (
          got.length === want.length &&
          got.every((h, j) => Math.abs(h.score - want[j]!) <= 1e-9 * Math.max(1, want[j]!))
        )
          equal++;
      }
      figures.exact[filter ? JSON.stringify(filter) : 'none'] = {
        queries: asked,
        equalPct: (100 * equal) / asked,
        postingsReadP50: percentile(read, 50),
        postingsReadP99: percentile(read, 99),
      };
      exactRows.push([
        filter ? `keyword, metadata filter ${JSON.stringify(filter)}` : 'keyword',
        asked,
        `${((100 * equal) / asked).toFixed(2)}%`,
        [...plans].join(', '),
        percentile(read, 50),
        percentile(read, 99),
        percentile(rounds, 99),
        percentile(full, 50).toFixed(2),
      ]);
      process.stderr.write(`exactness ${JSON.stringify(filter ?? {})} done\n`);
    }
    const filterRows: (string | number)[][] = [];
    for (const filter of [{ p1: true }, { p50: true }]) {
      const raw = await direct('keyword', 1, { filter: { metadata: filter } });
      let n = 0;
      const http = await autocannon({
        url: `${address}/v1/search`,
        method: 'POST',
        connections: 1,
        duration: SECONDS,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        requests: [
          {
            setupRequest: (req) => ({
              ...req,
              body: JSON.stringify({
                query: queries[n++ % queries.length],
                mode: 'keyword',
                collection: 'scifact',
                k: 10,
                filter: { metadata: filter },
              }),
            }),
          },
        ],
      });
      figures.filtered[JSON.stringify(filter)] = {
        sqlP50: raw.p50,
        sqlP99: raw.p99,
        httpP50: http.latency.p50,
        httpP99: http.latency.p99,
      };
      filterRows.push([
        `keyword, filter ${JSON.stringify(filter)}, 1 conn`,
        raw.p50.toFixed(2),
        raw.p99.toFixed(2),
        http.latency.p50.toFixed(2),
        http.latency.p99.toFixed(2),
      ]);
    }
    for (const mode of modes) {
      for (const connections of LOADS) {
        const raw = await direct(mode, connections);
        let n = 0;
        const http = await autocannon({
          url: `${address}/v1/search`,
          method: 'POST',
          connections,
          duration: SECONDS,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
          requests: [
            {
              setupRequest: (req) => ({
                ...req,
                body: JSON.stringify({
                  query: queries[n++ % queries.length],
                  mode,
                  collection: 'scifact',
                  k: 10,
                }),
              }),
            },
          ],
        });
        if (http.non2xx > 0) throw new Error(`${mode}: ${http.non2xx} non-2xx answers`);
        (figures.latency[mode] ??= {})[String(connections)] = {
          sqlP50: raw.p50,
          sqlP99: raw.p99,
          httpP50: http.latency.p50,
          httpP99: http.latency.p99,
        };
        rows.push(
          [
            `${mode}, ${connections} conn: same SQL direct (vectors precomputed)`,
            raw.rps.toFixed(0),
            raw.p50.toFixed(2),
            raw.p99.toFixed(2),
            '1',
          ],
          [
            `${mode}, ${connections} conn: POST /v1/search (embeds the query)`,
            http.requests.average.toFixed(0),
            http.latency.p50.toFixed(2),
            http.latency.p99.toFixed(2),
            `${(http.latency.p50 / raw.p50).toFixed(2)} / ${(http.latency.p99 / raw.p99).toFixed(2)}`,
          ],
        );
        process.stderr.write(`${mode} × ${connections} done\n`);
      }
    }
    // Where a request's time goes, one connection, each step alone in this run: the HTTP
    // floor (GET /healthz), a search request the schema rejects (auth, body parse and
    // validation, no search), the query's terms (one SQL round trip), the query embedding.
    const http1 = async (o: {
      path: string;
      method: 'GET' | 'POST';
      body?: string;
      status: number;
    }) => {
      const r = await autocannon({
        url: `${address}${o.path}`,
        method: o.method,
        connections: 1,
        duration: SECONDS,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        ...(o.body === undefined ? {} : { body: o.body }),
      });
      const answered = o.status === 200 ? r['2xx'] : r['4xx'];
      if (answered !== r.requests.total)
        throw new Error(`${o.path}: not every answer was ${o.status}`);
      return [r.latency.p50.toFixed(2), r.latency.p99.toFixed(2)];
    };
    const loop = async (f: (i: number) => Promise<unknown>): Promise<string[]> => {
      const lat: number[] = [];
      const until = performance.now() + SECONDS * 1000;
      for (let i = 0; performance.now() < until; i++) {
        const s = performance.now();
        await f(i);
        lat.push(performance.now() - s);
      }
      return [percentile(lat, 50).toFixed(2), percentile(lat, 99).toFixed(2)];
    };
    const single = await Embedder.load(spec, { provider: 'cpu', threads: 1, batchSize: 1 });
    const budgetRows = [
      [
        'GET /healthz over HTTP (the HTTP floor)',
        ...(await http1({ path: '/healthz', method: 'GET', status: 200 })),
      ],
      [
        'POST /v1/search rejected by the schema (auth, body parse, validation)',
        ...(await http1({
          path: '/v1/search',
          method: 'POST',
          body: '{"query":"x","k":0}',
          status: 400,
        })),
      ],
      [
        "the query's terms: one SQL round trip (to_tsvector)",
        ...(await loop((i) => queryTerms(sql, queries[i % queries.length]!))),
      ],
      [
        `the query's embedding, ${MODEL}, 1 thread, in process`,
        ...(await loop((i) => single.embed([queries[i % queries.length]!], { truncate: true }))),
      ],
    ];
    await single.close();
    await api.stop();

    // What a MiniLM-sized query costs to embed (random weights, real compute), one at a time.
    const minilm = await Embedder.load(
      await describeModel(MODELS_DIR, 'minilm-l6-random', 'auto'),
      { provider: 'cpu', threads: 1, batchSize: 1 },
    );
    const emb: number[] = [];
    for (const text of queries.slice(0, 300)) {
      const s = performance.now();
      await minilm.embed([text], { truncate: true });
      emb.push(performance.now() - s);
    }
    await minilm.close();
    if (JSON_OUT) writeFileSync(JSON_OUT, `${JSON.stringify(figures, null, 2)}\n`);

    process.stdout.write(
      `\nSearch benchmark — ${CHUNKS.toLocaleString()} chunks (loaded in ${loaded.toFixed(1)} s, ${figures.hnswSeconds === null ? 'no HNSW (keyword only)' : `HNSW built in ${indexed.toFixed(1)} s`}, ` +
        `keyword index of ${postings.toLocaleString()} postings built in ${keywordBuilt.toFixed(1)} s: ${(CHUNKS / keywordBuilt).toFixed(0)} chunks/s), ` +
        `k = 10, ${SECONDS} s per row, ${MODEL} query embedding (1 thread), ${POOL} PostgreSQL connections for the API and for the direct runs, ${machine()}\n\n`,
    );
    process.stdout.write(
      `Keyword lists in memory: ${MEMORY_MB} MB allowed, ${figures.cold.listsMB.toFixed(0)} MB held after every query was asked once. ` +
        `That first pass (lists loaded from PostgreSQL as needed), 1 connection, in process: ` +
        `p50 ${figures.cold.p50.toFixed(2)} ms, p99 ${figures.cold.p99.toFixed(2)} ms over ${figures.cold.queries} queries. The rows below start with them loaded.\n\n`,
    );
    process.stdout.write(
      `${table(['path', 'req/s', 'p50 ms', 'p99 ms', 'HTTP ÷ SQL (p50 / p99)'], rows)}\n\n`,
    );
    process.stdout.write(
      `${table(['keyword top 10 against every posting scored', 'queries', 'top-10 scores equal', 'plan', 'postings read p50', 'postings read p99', 'rounds p99', 'exhaustive SQL p50 ms'], exactRows)}\n\n`,
    );
    process.stdout.write(
      `${table(['filtered keyword search', 'SQL p50 ms', 'SQL p99 ms', 'HTTP p50 ms', 'HTTP p99 ms'], filterRows)}\n\n`,
    );
    process.stdout.write(
      `${table(["where a search request's time goes: each step alone, 1 connection", 'p50 ms', 'p99 ms'], budgetRows)}\n\n`,
    );
    process.stdout.write(
      `${table(['query embedding alone, one at a time', 'p50 ms', 'p99 ms'], [['minilm-l6-random (MiniLM-L6 compute), 1 thread', percentile(emb, 50).toFixed(2), percentile(emb, 99).toFixed(2)]])}\n`,
    );
  } finally {
    await embedder.close();
    await database.close();
    // --keep leaves the database for profiling queries by hand.
    if (process.argv.includes('--keep')) process.stderr.write(`kept ${db.url}\n`);
    else await db.drop();
    const nc = await connect({ servers: natsUrl });
    await deleteNamespace(nc, namespace);
    await nc.close();
  }
}

await main();
