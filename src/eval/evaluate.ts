// The indexer's self-calibration uses eval's metrics: eval takes the fusion formula from
// its file, not the indexer's index.ts, or the two slices would import each other.
// eslint-disable-next-line no-restricted-imports
import { fuse } from '../consumers/indexer/fusion.js';
import { SluiceError } from '../errors/index.js';
import { countCorpus, readCorpus, readQueries } from './beir.js';
import { chooseWeight, GRID } from './choose-weight.js';
import { pool, type ApiClient, type Hit, type Mode } from './client.js';
import {
  foldToDocuments,
  mean,
  mrrAt,
  ndcgAt,
  percentile,
  recallAt,
  type Judgements,
} from './metrics.js';

export interface Progress {
  start(label: string, total: number): void;
  /** Adds n (default 1) to what is done. */
  tick(n?: number): void;
  /** Sets what is done. */
  update(done: number): void;
  stop(): void;
}

export interface EvalOptions {
  dir: string;
  client: ApiClient;
  collection: string;
  /** Tenant written into the events when ingesting. */
  tenant: string;
  split: string;
  modes: Mode[];
  model?: string;
  /** Chunks asked for per query (the API's maximum is 100). */
  k: number;
  limit?: number;
  concurrency: number;
  ingest: boolean;
  /** How long to wait for the corpus to be indexed. */
  waitSeconds: number;
  /** Choose and store the collection's fusion weight on this split. */
  calibrate: boolean;
  /** Compare HNSW results with an exact scan (recall@10). */
  hnswRecall: boolean;
  progress: Progress;
}

export interface ModeReport {
  mode: Mode;
  ndcg10: number;
  recall100: number;
  mrr10: number;
  /** Queries answered with no result. */
  empty: number;
  p50Ms: number;
  p99Ms: number;
  /** Hybrid: the weight the API used. */
  vectorWeight?: number;
  weightSource?: string;
}

export interface Calibration {
  split: string;
  metric: 'ndcg@10';
  vectorWeight: number;
  score: number;
  queries: number;
  /** nDCG@10 at every weight tried. */
  grid: { vectorWeight: number; score: number }[];
  at: string;
}

export interface EvalReport {
  dataset: string;
  collection: string;
  split: string;
  queries: number;
  ingested?: { documents: number; seconds: number };
  calibration?: Calibration;
  modes: ModeReport[];
  hnsw?: { recall10: number; queries: number };
}

const keyOf = (h: Hit): string => `${h.collection}\u0000${h.documentId}\u0000${h.chunkIndex}`;

/**
 * Evaluates a collection through the HTTP API on a BEIR-format dataset: optionally
 * ingests the corpus and waits until it is indexed, optionally calibrates the hybrid
 * fusion weight on the split's queries, then reports each mode's quality and latency.
 */
export async function evaluate(o: EvalOptions): Promise<EvalReport> {
  const report: EvalReport = {
    dataset: o.dir,
    collection: o.collection,
    split: o.split,
    queries: 0,
    modes: [],
  };
  if (o.ingest) report.ingested = await ingest(o);
  const queries = readQueries(o.dir, o.split).slice(0, o.limit ?? Infinity);
  if (queries.length === 0)
    throw new SluiceError('REQUEST_INVALID', `no judged queries in qrels/${o.split}.tsv`);
  report.queries = queries.length;
  const base = { collection: o.collection, k: o.k, ...(o.model ? { model: o.model } : {}) };

  if (o.calibrate) {
    // Both sides once per query; every weight is then fused here exactly as the API would
    // (same candidates, same function), so the grid costs no further requests.
    o.progress.start(`calibrating on ${o.split}`, queries.length);
    const sides = await pool(
      queries,
      o.concurrency,
      async (q) => {
        const [v, k] = await Promise.all([
          o.client.search({ ...base, query: q.text, mode: 'vector' }),
          o.client.search({ ...base, query: q.text, mode: 'keyword' }),
        ]);
        return { v: v.results, k: k.results };
      },
      () => o.progress.tick(),
    );
    o.progress.stop();
    const perQuery = GRID.map((w) =>
      queries.map((q, i) => {
        const { v, k } = sides[i]!;
        const byKey = new Map([...v, ...k].map((h) => [keyOf(h), h]));
        const fused = fuse(
          v.map((h) => ({ key: keyOf(h), score: h.score })),
          k.map((h) => ({ key: keyOf(h), score: h.score })),
          w,
        )
          .slice(0, o.k)
          .map((f) => byKey.get(f.key)!);
        return ndcgAt(foldToDocuments(fused), q.rel, 10);
      }),
    );
    const grid = GRID.map((w, i) => ({ vectorWeight: w, score: mean(perQuery[i]!) }));
    const best = chooseWeight(perQuery);
    report.calibration = {
      split: o.split,
      metric: 'ndcg@10',
      vectorWeight: GRID[best]!,
      score: grid[best]!.score,
      queries: queries.length,
      grid,
      at: new Date().toISOString(),
    };
    const { status, body } = await o.client.call<{ error?: { message: string } }>(
      'PUT',
      `/v1/collections/${encodeURIComponent(o.collection)}/fusion`,
      {
        vectorWeight: GRID[best]!,
        ...(o.model ? { model: o.model } : {}),
        calibration: { ...report.calibration, grid: undefined },
      },
    );
    if (status !== 200)
      throw new SluiceError(
        'REQUEST_INVALID',
        `storing the fusion weight answered ${status}: ${body.error?.message ?? ''}`,
      );
  }

  for (const mode of o.modes) {
    o.progress.start(`${mode} on ${o.split}`, queries.length);
    const answers = await pool(
      queries,
      o.concurrency,
      (q) => o.client.search({ ...base, query: q.text, mode }),
      () => o.progress.tick(),
    );
    o.progress.stop();
    const ranked = answers.map((a) => foldToDocuments(a.results));
    const rel = (i: number): Judgements => queries[i]!.rel;
    const fusion = answers.find((a) => a.fusion)?.fusion;
    report.modes.push({
      mode,
      ndcg10: mean(ranked.map((r, i) => ndcgAt(r, rel(i), 10))),
      recall100: mean(ranked.map((r, i) => recallAt(r, rel(i), 100))),
      mrr10: mean(ranked.map((r, i) => mrrAt(r, rel(i), 10))),
      empty: answers.filter((a) => a.results.length === 0).length,
      p50Ms: percentile(
        answers.map((a) => a.ms),
        50,
      ),
      p99Ms: percentile(
        answers.map((a) => a.ms),
        99,
      ),
      ...(fusion ? { vectorWeight: fusion.vectorWeight, weightSource: fusion.source } : {}),
    });
  }

  if (o.hnswRecall) {
    o.progress.start('HNSW recall@10 against an exact scan', queries.length);
    const overlap = await pool(
      queries,
      o.concurrency,
      async (q) => {
        const body = { ...base, k: 10, query: q.text, mode: 'vector' };
        const [approx, exact] = await Promise.all([
          o.client.search(body),
          o.client.search({ ...body, exact: true }),
        ]);
        if (exact.results.length === 0) return 1;
        const found = new Set(approx.results.map(keyOf));
        return exact.results.filter((h) => found.has(keyOf(h))).length / exact.results.length;
      },
      () => o.progress.tick(),
    );
    o.progress.stop();
    report.hnsw = { recall10: mean(overlap), queries: queries.length };
  }
  return report;
}

/** Publishes the corpus through POST /v1/events (NDJSON) and waits until it is indexed. */
async function ingest(o: EvalOptions): Promise<{ documents: number; seconds: number }> {
  const started = performance.now();
  const total = countCorpus(o.dir);
  o.progress.start(`publishing ${o.dir}`, total);
  let batch: string[] = [];
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const { status, body } = await o.client.call<{
      error?: { message: string };
      results?: { status: string; error?: { code: string; message: string } }[];
    }>('POST', '/v1/events', batch.join('\n'), 'application/x-ndjson');
    if (status !== 202) {
      const bad = body.results?.find((r) => r.status !== 'accepted' && r.status !== 'duplicate');
      throw new SluiceError(
        'REQUEST_INVALID',
        `ingest answered ${status}: ${bad?.error ? `${bad.error.code} ${bad.error.message}` : (body.error?.message ?? '')}`,
      );
    }
    o.progress.tick(batch.length);
    batch = [];
  };
  for await (const d of readCorpus(o.dir)) {
    batch.push(
      JSON.stringify({
        specversion: '1.0',
        id: `eval:${o.collection}:${d.id}`,
        source: 'urn:sluice:eval',
        type: 'sluice.document.upserted.v1',
        data: {
          tenant: o.tenant,
          collection: o.collection,
          documentId: d.id,
          ...(d.title ? { title: d.title } : {}),
          text: d.text || d.title || ' ',
        },
      }),
    );
    if (batch.length >= 500) await flush();
  }
  await flush();
  o.progress.stop();

  // Indexed when the documents read model says so of every document (or that it failed),
  // and none is still on its way. Not the collection's document count: the collections
  // and documents read models are projected apart, and the count can reach the total
  // while some documents are not in the documents read model yet.
  o.progress.start('waiting until indexed', total);
  const deadline = Date.now() + o.waitSeconds * 1000;
  for (;;) {
    const { body: cols } = await o.client.call<{
      items?: { name: string; statuses?: Record<string, number> }[];
    }>('GET', '/v1/collections');
    const statuses = cols.items?.find((c) => c.name === o.collection)?.statuses ?? {};
    const n = (status: string): number => statuses[status] ?? 0;
    const pending = n('received') + n('chunked') + n('embedded');
    const done = Math.min(total, n('indexed') + n('failed'));
    o.progress.update(done);
    if (done >= total && pending === 0) break;
    if (Date.now() > deadline)
      throw new SluiceError(
        'REQUEST_INVALID',
        `the collection is not indexed after ${o.waitSeconds} s (${done} of ${total}); raise --wait or look at /v1/dead-letters`,
      );
    await new Promise((r) => setTimeout(r, 2000));
  }
  o.progress.stop();
  return { documents: total, seconds: (performance.now() - started) / 1000 };
}
