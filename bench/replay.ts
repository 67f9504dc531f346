/**
 * Replay against re-embedding, in one run: SciFact passages go through the whole
 * pipeline once (sluice-static-384, so that filling the streams takes minutes, not
 * hours); then the documents, collections and vector-index projections are replayed
 * from their streams with `Replayer` (shadow tables, indexes, swap, catch-up: the
 * whole `sluice replay`), and the same chunks are embedded again by Sluice's embedder
 * with a transformer model (minilm-l6-random: MiniLM-L6 compute on this CPU) and with
 * the static model.
 *
 *   npm run bench:replay -- [--passages 5183] [--copies 2] [--reembed 1000] [--out bench]
 *
 * --copies publishes each passage under that many document ids (more events, same
 * text); --reembed is how many chunks the transformer embeds (its rate is steady, and
 * all of them would take an hour here). A list, `--copies 1,10`, runs each size in
 * turn, each in a namespace and a database of its own, and adds a table across sizes and
 * the chart replay-growth.svg (written into --out): ingest and replay rates against the
 * number of chunks. The re-embedding rates are measured once, on the first size's chunks.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import postgres from 'postgres';
import { loadConfig, roleNames, type Config } from '../src/config/index.js';
import { embedTextOf } from '../src/contracts/index.js';
import { createDatabase } from '../src/db/index.js';
import { createLogger } from '../src/logger.js';
import { Embedder, ensureModel } from '../src/models/index.js';
import { Producer } from '../src/producers/index.js';
import { packageRoot } from '../src/paths.js';
import { Replayer, type Replayable } from '../src/replay/index.js';
import {
  applyTopology,
  declareTopology,
  streamName,
  type StreamKey,
  deleteNamespace,
} from '../src/topology/index.js';
import {
  benchDatabase,
  benchNamespace,
  countsFlag,
  flag,
  machine,
  passages,
  servers,
  sharedDir,
  sluice,
  stopProcess,
  table,
  textFlag,
  waitStarted,
  waitFor,
} from './lib.js';
import { lineChart } from './svg.js';

const PASSAGES = flag('passages', 5183);
const COPIES = countsFlag('copies', '2');
const OUT = textFlag('out') ?? join(packageRoot, 'bench');
const REEMBED = flag('reembed', 1000);
const LIVE_MODEL = 'sluice-static-384';
const TRANSFORMER = 'minilm-l6-random';
const MODELS_DIR = join(sharedDir, 'models');
const THREADS = 2;

/** Every consumer of the namespace has nothing pending and nothing unacknowledged. */
async function idle(nc: NatsConnection, namespace: string): Promise<boolean> {
  const jsm = await jetstreamManager(nc);
  for (const s of ['events', 'chunks', 'vectors', 'status'] as StreamKey[]) {
    for await (const c of jsm.consumers.list(streamName(namespace, s))) {
      if (c.num_pending > 0 || c.num_ack_pending > 0) return false;
    }
  }
  return true;
}

/** Publishes the passages and waits until every consumer, projector included, is done. */
async function fill(
  nc: NatsConnection,
  config: Config,
  databaseUrl: string,
  docs: number,
  copies: number,
) {
  const p = sluice(['start'], {
    NATS_URL: config.natsUrl.join(','),
    DATABASE_URL: databaseUrl,
    SLUICE_NAMESPACE: config.namespace,
    SLUICE_MODELS_DIR: MODELS_DIR,
    SLUICE_MODELS: LIVE_MODEL,
    // Every role that owns a durable on these streams: idle() waits for all of them, and
    // a role's durable (the output role's webhooks, the parser's events) never drains
    // without it. Every role but the API, so that a role added later is not left out.
    SLUICE_ROLES: roleNames.filter((r) => r !== 'api').join(','),
    SLUICE_EMBED_THREADS: String(THREADS),
  });
  try {
    await waitStarted(p);
    const producer = new Producer({ nc, namespace: config.namespace });
    const all = passages(PASSAGES);
    const t0 = performance.now();
    for (let c = 0; c < copies; c++) {
      await producer.publishBatch(
        all.map((d) =>
          producer.event('sluice.document.upserted.v1', {
            tenant: 'bench',
            collection: `scifact-${c}`,
            documentId: d.id,
            title: d.title,
            text: d.text,
          }),
        ),
      );
    }
    const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
    try {
      await waitFor(
        async () => {
          const [r] = await sql<{ n: number }[]>`
            SELECT count(*)::int AS n FROM proj_documents WHERE status = 'indexed'`;
          return r!.n === docs && (await idle(nc, config.namespace));
        },
        3_600_000,
        'every passage indexed and projected',
      );
    } finally {
      await sql.end();
    }
    return (performance.now() - t0) / 1000;
  } finally {
    await stopProcess(p.child);
  }
}

async function reembed(model: string, texts: string[]): Promise<number> {
  const spec = await ensureModel(MODELS_DIR, model, 'auto', false);
  const embedder = await Embedder.load(spec, { threads: THREADS, batchSize: 8 });
  try {
    await embedder.embed(texts.slice(0, 8)); // warm-up
    const t0 = performance.now();
    // 128 at a time, as the embedder consumer takes them.
    for (let i = 0; i < texts.length; i += 128) await embedder.embed(texts.slice(i, i + 128));
    return texts.length / ((performance.now() - t0) / 1000);
  } finally {
    await embedder.close();
  }
}

interface Size {
  copies: number;
  docs: number;
  chunks: number;
  fillSeconds: number;
  replays: Record<Replayable, { events: number; seconds: number; rate: number }>;
}

/** One size: fill a namespace and a database of their own, then replay each projection. */
async function runSize(
  nc: NatsConnection,
  natsUrl: string,
  databaseUrl: string,
  copies: number,
  sample: (sql: postgres.Sql) => Promise<void>,
): Promise<Size> {
  const db = await benchDatabase(databaseUrl);
  const namespace = benchNamespace('brp');
  const docs = Math.min(PASSAGES, 5183) * copies;
  const database = createDatabase({ url: db.url, max: 4 });
  try {
    const config = loadConfig(
      {},
      {
        natsUrl: [natsUrl],
        databaseUrl: db.url,
        namespace,
        modelsDir: MODELS_DIR,
        models: [LIVE_MODEL],
      },
    );
    await applyTopology(await jetstreamManager(nc), nc, declareTopology(config));
    process.stderr.write(`filling the streams: ${docs} documents through the pipeline… `);
    const fillSeconds = await fill(nc, config, db.url, docs, copies);
    process.stderr.write(`${fillSeconds.toFixed(0)} s\n`);

    const sql = database.sql;
    const [{ chunks }] =
      (await sql`SELECT count(*)::int AS chunks FROM index_chunks`) as unknown as [
        { chunks: number },
      ];
    const replayer = new Replayer({
      nc,
      sql,
      config,
      logger: createLogger({ level: 'warn', destination: process.stderr }),
    });
    const replays = {} as Size['replays'];
    for (const name of ['documents', 'collections', 'index'] as Replayable[]) {
      process.stderr.write(`replaying ${name}… `);
      const r = await replayer.run(name);
      replays[name] = { events: r.events, seconds: r.seconds, rate: r.events / r.seconds };
      process.stderr.write(
        `${r.events} events in ${r.seconds.toFixed(1)} s ${JSON.stringify(r.phases)}\n`,
      );
    }
    await sample(sql);
    return { copies, docs, chunks, fillSeconds, replays };
  } finally {
    // Each step whatever the one before did: a failed size leaves nothing behind.
    await database
      .close()
      .finally(() => deleteNamespace(nc, namespace))
      .finally(() => db.drop());
  }
}

function replayRow(
  work: string,
  r: Size['replays'][Replayable],
  chunkRate: number | string,
  goal: string,
): (string | number)[] {
  return [work, r.events, Math.round(r.seconds * 10) / 10, Math.round(r.rate), chunkRate, goal];
}

function printSize(s: Size, transformerRate: number, staticRate: number, reembedded: number) {
  const index = s.replays.index;
  const indexChunkRate = s.chunks / index.seconds;
  const r1 = (x: number): number => Math.round(x);
  process.stdout.write(
    `\nReplay benchmark — ${s.docs.toLocaleString('en-US')} documents (${PASSAGES} SciFact passages × ${s.copies}) → ` +
      `${s.chunks.toLocaleString('en-US')} chunks, indexed live with ${LIVE_MODEL} in ${s.fillSeconds.toFixed(0)} s; ` +
      `replay = shadow tables + indexes + swap + catch-up; ${THREADS} embedding threads; ${machine()}\n\n`,
  );
  process.stdout.write(
    `${table(
      ['work', 'events', 'seconds', 'events/s', 'chunks/s', 'goal'],
      [
        [
          `ingest: publish → every document indexed and projected (${LIVE_MODEL})`,
          '—',
          Math.round(s.fillSeconds * 10) / 10,
          '—',
          r1(s.chunks / s.fillSeconds),
          '—',
        ],
        replayRow(
          'replay documents projection (events + status streams)',
          s.replays.documents,
          '—',
          '≥ 50,000 events/s',
        ),
        replayRow(
          'replay collections projection (events + status streams)',
          s.replays.collections,
          '—',
          '—',
        ),
        replayRow(
          'replay vector index (vectors stream, no embedding)',
          index,
          r1(indexChunkRate),
          '≥ 60× re-embedding',
        ),
        [
          `re-embed the chunks with ${TRANSFORMER} (${Math.min(REEMBED, reembedded)} chunks)`,
          '—',
          '—',
          '—',
          Math.round(transformerRate * 10) / 10,
          '—',
        ],
        [
          `re-embed the chunks with ${LIVE_MODEL} (${reembedded} chunks)`,
          '—',
          '—',
          '—',
          r1(staticRate),
          '—',
        ],
      ],
    )}\n\n`,
  );
  process.stdout.write(
    `${table(
      ['ratio', 'value'],
      [
        [
          `index replay ÷ re-embedding with ${TRANSFORMER} (chunks/s)`,
          Math.round(indexChunkRate / transformerRate),
        ],
        [
          `index replay ÷ re-embedding with ${LIVE_MODEL} (chunks/s)`,
          Math.round((indexChunkRate / staticRate) * 100) / 100,
        ],
      ],
    )}\n`,
  );
}

/** Several sizes: one table across them, and the chart replay-growth.svg. */
function printGrowth(sizes: Size[]): void {
  const r1 = (x: number): number => Math.round(x);
  process.stdout.write(
    `\nHow ingest and replay grow — ${sizes.length} sizes, ${machine()}\n\n${table(
      [
        'chunks',
        'documents',
        'ingest, chunks/s',
        'documents replay, events/s',
        'collections replay, events/s',
        'index replay, chunks/s',
        'index replay, s',
      ],
      sizes.map((s) => [
        s.chunks,
        s.docs,
        r1(s.chunks / s.fillSeconds),
        r1(s.replays.documents.rate),
        r1(s.replays.collections.rate),
        r1(s.chunks / s.replays.index.seconds),
        Math.round(s.replays.index.seconds * 10) / 10,
      ]),
    )}\n`,
  );
  const file = join(OUT, 'replay-growth.svg');
  writeFileSync(
    file,
    lineChart({
      title: 'Ingest and replay rates',
      x: 'chunks',
      y: 'per second',
      series: [
        { name: 'ingest (chunks)', points: sizes.map((s) => [s.chunks, s.chunks / s.fillSeconds]) },
        {
          name: 'documents (events)',
          points: sizes.map((s) => [s.chunks, s.replays.documents.rate]),
        },
        {
          name: 'collections (events)',
          points: sizes.map((s) => [s.chunks, s.replays.collections.rate]),
        },
        {
          name: 'index (chunks)',
          points: sizes.map((s) => [s.chunks, s.chunks / s.replays.index.seconds]),
        },
      ],
    }),
  );
  process.stderr.write(`wrote ${file}\n`);
}

async function main(): Promise<void> {
  const { natsUrl, databaseUrl } = servers();
  const nc = await connect({ servers: natsUrl, noAsyncTraces: true });
  let transformerRate = 0;
  let staticRate = 0;
  let reembedded = 0;
  // The re-embedding rates, once, on the first size's chunks.
  const sample = async (sql: postgres.Sql): Promise<void> => {
    if (reembedded > 0) return;
    const all = (
      await sql<{ headings: string[]; text: string }[]>`
      SELECT headings, text FROM index_chunks ORDER BY collection, document_id, chunk_index`
    ).map(embedTextOf);
    const rows = await sql<{ headings: string[]; text: string }[]>`
      SELECT headings, text FROM index_chunks ORDER BY document_id, chunk_index LIMIT ${REEMBED}`;
    process.stderr.write(`re-embedding ${rows.length} chunks with ${TRANSFORMER}… `);
    transformerRate = await reembed(TRANSFORMER, rows.map(embedTextOf));
    process.stderr.write(
      `${transformerRate.toFixed(1)} chunks/s; ${all.length} with ${LIVE_MODEL}… `,
    );
    staticRate = await reembed(LIVE_MODEL, all);
    process.stderr.write(`${staticRate.toFixed(0)} chunks/s\n`);
    reembedded = all.length;
  };
  const sizes: Size[] = [];
  try {
    for (const copies of COPIES) {
      sizes.push(await runSize(nc, natsUrl, databaseUrl, copies, sample));
      printSize(sizes.at(-1)!, transformerRate, staticRate, reembedded);
    }
    if (sizes.length > 1) printGrowth(sizes);
  } finally {
    await nc.close();
  }
}

await main();
