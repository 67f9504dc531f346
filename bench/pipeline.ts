/**
 * The whole pipeline (chunker → embedder → indexer, one Sluice process) against bare
 * onnxruntime-node on the same chunks, in one run; peak RSS; and the embedder's RSS with
 * a 1k and a 20k backlog.
 *
 *   npm run bench:pipeline -- [--passages 2000] [--rounds 2] [--backlog-seconds 20] [--small-backlog 1000] [--large-backlog 20000]
 *
 * This machine's speed drifts by ±20% between minutes, so pipeline and bare runs
 * alternate and the table reports medians.
 *
 * Passages: the first N SciFact documents (title + text, about 200 words each) from
 * ../shared/datasets (CC BY-NC: read at run time, never copied into the repository).
 */
import { join } from 'node:path';
import { AutoTokenizer, env as hf } from '@huggingface/transformers';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import * as ort from 'onnxruntime-node';
import postgres from 'postgres';
import { PipelinePublisher } from '../src/runtime/publisher.js';
import { loadConfig, type Config } from '../src/config/index.js';
import { embedTextOf } from '../src/contracts/index.js';
import { meanPoolNormalize } from '../src/models/index.js';
import { Producer } from '../src/producers/index.js';
import {
  Subjects,
  applyTopology,
  declareTopology,
  deleteNamespace,
} from '../src/topology/index.js';
import {
  benchDatabase,
  benchNamespace,
  flag,
  machine,
  median,
  passages,
  rssOf,
  servers,
  sharedDir,
  sluice,
  stopProcess,
  table,
  waitStarted,
  waitAllIndexed,
  type Passage,
} from './lib.js';

const PASSAGES = flag('passages', 2000);
const ROUNDS = flag('rounds', 2);
const BACKLOG_SECONDS = flag('backlog-seconds', 20);
const SMALL = flag('small-backlog', 1000);
const LARGE = flag('large-backlog', 20000);
const MODEL = 'minilm-l6-random';
const MODELS_DIR = join(sharedDir, 'models');
const THREADS = 2;

function envOf(config: Config, databaseUrl: string, roles: string): Record<string, string> {
  return {
    NATS_URL: config.natsUrl.join(','),
    DATABASE_URL: databaseUrl,
    SLUICE_NAMESPACE: config.namespace,
    SLUICE_MODELS_DIR: MODELS_DIR,
    SLUICE_MODELS: MODEL,
    SLUICE_ROLES: roles,
    SLUICE_EMBED_THREADS: String(THREADS),
  };
}

/** The pipeline: publish the passages, time until every chunk is in pgvector. */
async function pipeline(nc: NatsConnection, base: Config, databaseUrl: string, docs: Passage[]) {
  const config = { ...base, namespace: benchNamespace('bpl') };
  await applyTopology(
    await jetstreamManager(nc),
    nc,
    declareTopology({ ...config, models: [MODEL] }),
  );
  const p = sluice(['start'], envOf(config, databaseUrl, 'chunker,embedder,indexer'));
  await waitStarted(p);
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, rssOf(p.child.pid!).rss)), 200);
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  const producer = new Producer({ nc, namespace: config.namespace });
  const t0 = performance.now();
  await producer.publishBatch(
    docs.map((d) =>
      producer.event('sluice.document.upserted.v1', {
        tenant: 'bench',
        collection: 'scifact',
        documentId: d.id,
        title: d.title,
        text: d.text,
      }),
    ),
  );
  await waitAllIndexed(sql, docs.length, 1_800_000);
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  const hwm = rssOf(p.child.pid!).peak;
  const chunks = await sql<
    { headings: string[]; text: string }[]
  >`SELECT headings, text FROM index_chunks ORDER BY document_id, chunk_index`;

  await sql.end();
  await stopProcess(p.child);
  await deleteNamespace(nc, config.namespace);
  return { seconds, chunks: chunks.map(embedTextOf), peakRss: Math.max(peak, hwm) };
}

/** Bare onnxruntime-node on the same texts: tokenise, run batches of 32 sorted by length, mean-pool. */
async function bare(texts: string[]): Promise<{ seconds: number; meanTokens: number }> {
  hf.allowRemoteModels = false;
  hf.localModelPath = `${MODELS_DIR}/`;
  const tokenizer = await AutoTokenizer.from_pretrained(MODEL);
  const session = await ort.InferenceSession.create(
    join(MODELS_DIR, MODEL, 'onnx/model_quantized.onnx'),
    {
      intraOpNumThreads: THREADS,
      graphOptimizationLevel: 'all',
      executionProviders: ['cpu'],
    },
  );
  const t0 = performance.now();
  const encoded = texts.map((t) => tokenizer.encode(t)).sort((a, b) => a.length - b.length);
  for (let s = 0; s < encoded.length; s += 32) {
    const rows = encoded.slice(s, s + 32);
    const L = Math.max(...rows.map((r) => r.length));
    const ids = new BigInt64Array(rows.length * L);
    const mask = new BigInt64Array(rows.length * L);
    rows.forEach((r, b) =>
      r.forEach((id, t) => ((ids[b * L + t] = BigInt(id)), (mask[b * L + t] = 1n))),
    );
    const out = await session.run({
      input_ids: new ort.Tensor('int64', ids, [rows.length, L]),
      attention_mask: new ort.Tensor('int64', mask, [rows.length, L]),
      token_type_ids: new ort.Tensor('int64', new BigInt64Array(rows.length * L), [rows.length, L]),
    });
    const h = out.last_hidden_state!;
    meanPoolNormalize(h.data as Float32Array, mask, rows.length, L, 384);
  }
  const seconds = (performance.now() - t0) / 1000;
  await session.release();
  return { seconds, meanTokens: encoded.reduce((n, e) => n + e.length, 0) / encoded.length };
}

/** The embedder alone with `backlog` chunk events waiting: RSS over a fixed window. */
async function backlogRss(
  nc: NatsConnection,
  base: Config,
  databaseUrl: string,
  backlog: number,
  texts: string[],
) {
  const config = { ...base, namespace: benchNamespace('bbl') };
  await applyTopology(
    await jetstreamManager(nc),
    nc,
    declareTopology({ ...config, models: [MODEL] }),
  );
  const publisher = new PipelinePublisher({ nc, source: 'urn:bench' });
  const subjects = new Subjects(config.namespace);
  const inFlight: Promise<number>[] = [];
  for (let i = 0; i < backlog; i++) {
    const text = texts[i % texts.length]!;
    const ref = { tenant: 'bench', collection: 'backlog', documentId: `d${i}` };
    const chunk = {
      index: 0,
      id: i.toString(16).padStart(32, '0'),
      text,
      headings: [],
      hash: (i + 1).toString(16).padStart(64, '0'),
      tokens: 0,
      start: 0,
      end: text.length,
    };
    inFlight.push(
      publisher.event(
        subjects.chunks(ref),
        'sluice.chunks.v1',
        {
          ...ref,
          version: i + 1,
          deleted: false,
          part: 0,
          parts: 1,
          chunkCount: 1,
          document: {},
          chunks: [chunk],
        },
        `b${i}`,
      ),
    );
    if (inFlight.length >= 256) await Promise.all(inFlight.splice(0));
  }
  await Promise.all(inFlight);
  const p = sluice(['start'], envOf(config, databaseUrl, 'embedder'));
  await waitStarted(p, 'embedder started');
  const samples: number[] = [];
  const sampler = setInterval(() => samples.push(rssOf(p.child.pid!).rss), 250);
  await new Promise((r) => setTimeout(r, BACKLOG_SECONDS * 1000));
  clearInterval(sampler);
  const info = await (
    await jetstreamManager(nc)
  ).consumers.info(`${config.namespace.toUpperCase()}_CHUNKS`, `embedder-${MODEL}`);
  await stopProcess(p.child);
  await deleteNamespace(nc, config.namespace);
  return {
    peak: Math.max(...samples),
    end: samples[samples.length - 1]!,
    done: info.ack_floor.stream_seq,
  };
}

async function main(): Promise<void> {
  const { natsUrl, databaseUrl } = servers();
  const nc = await connect({ servers: natsUrl, noAsyncTraces: true });
  const docs = passages(PASSAGES);
  const pipeRates: number[] = [];
  const bareRates: number[] = [];
  let peakRss = 0;
  let chunks: string[] = [];
  let meanTokens = 0;
  try {
    for (let r = 0; r < ROUNDS; r++) {
      const db = await benchDatabase(databaseUrl);
      try {
        const base = loadConfig(
          {},
          { natsUrl: [natsUrl], databaseUrl: db.url, modelsDir: MODELS_DIR, models: [MODEL] },
        );
        process.stderr.write(`round ${r + 1}: pipeline, ${docs.length} passages… `);
        const pipe = await pipeline(nc, base, db.url, docs);
        chunks = pipe.chunks;
        pipeRates.push(chunks.length / pipe.seconds);
        peakRss = Math.max(peakRss, pipe.peakRss);
        process.stderr.write(`${(chunks.length / pipe.seconds).toFixed(1)} chunks/s; bare… `);
        const b = await bare(chunks);
        meanTokens = b.meanTokens;
        bareRates.push(chunks.length / b.seconds);
        process.stderr.write(`${(chunks.length / b.seconds).toFixed(1)} chunks/s\n`);
      } finally {
        await db.drop();
      }
    }
    process.stderr.write(`backlogs ${SMALL} and ${LARGE}…\n`);
    const db = await benchDatabase(databaseUrl);
    let small: Awaited<ReturnType<typeof backlogRss>>;
    let large: Awaited<ReturnType<typeof backlogRss>>;
    try {
      const base = loadConfig(
        {},
        { natsUrl: [natsUrl], databaseUrl: db.url, modelsDir: MODELS_DIR, models: [MODEL] },
      );
      small = await backlogRss(nc, base, db.url, SMALL, chunks);
      large = await backlogRss(nc, base, db.url, LARGE, chunks);
    } finally {
      await db.drop();
    }
    const pipeRate = median(pipeRates);
    const bareRate = median(bareRates);
    const round = (x: number): number => Math.round(x * 10) / 10;
    process.stdout.write(
      `\nPipeline benchmark — ${docs.length} SciFact passages → ${chunks.length} chunks (${meanTokens.toFixed(0)} tokens each on average), ` +
        `${MODEL} int8, ${THREADS} intra-op threads, ${ROUNDS} alternating rounds (median), ${machine()}\n\n`,
    );
    process.stdout.write(
      `${table(
        ['path', 'chunks/s (median)', 'rounds', 'ratio', 'peak RSS MB'],
        [
          [
            'bare onnxruntime-node (tokenise + run + pool, same chunks)',
            round(bareRate),
            bareRates.map(round).join(', '),
            1,
            '—',
          ],
          [
            'Sluice pipeline: publish → chunk → embed → pgvector',
            round(pipeRate),
            pipeRates.map(round).join(', '),
            Math.round((pipeRate / bareRate) * 1000) / 1000,
            Math.round(peakRss),
          ],
        ],
      )}\n\n`,
    );
    process.stdout.write(
      `${table(
        [
          `embedder alone, ${BACKLOG_SECONDS} s window`,
          'peak RSS MB',
          'RSS at end MB',
          'chunks embedded',
        ],
        [
          [
            `${SMALL.toLocaleString()} chunk events waiting`,
            Math.round(small.peak),
            Math.round(small.end),
            small.done,
          ],
          [
            `${LARGE.toLocaleString()} chunk events waiting`,
            Math.round(large.peak),
            Math.round(large.end),
            large.done,
          ],
        ],
      )}\n`,
    );
  } finally {
    await nc.close();
  }
}

await main();
