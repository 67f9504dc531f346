/**
 * Replay against re-embedding, in one run: SciFact passages go through the whole
 * pipeline once (sluice-static-384, so that filling the streams takes minutes, not
 * hours); then the documents, collections and vector-index projections are replayed
 * from their streams with `Replayer` (shadow tables, indexes, swap, catch-up: the
 * whole `sluice replay`), and the same chunks are embedded again by Sluice's embedder
 * with a transformer model (minilm-l6-random: MiniLM-L6 compute on this CPU) and with
 * the static model.
 *
 *   npm run bench:replay -- [--passages 5183] [--copies 2] [--reembed 1000]
 *
 * --copies publishes each passage under that many document ids (more events, same
 * text); --reembed is how many chunks the transformer embeds (its rate is steady, and
 * all of them would take an hour here).
 */
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
  flag,
  machine,
  passages,
  servers,
  sharedDir,
  sluice,
  table,
  waitStarted,
  waitFor,
} from './lib.js';

const PASSAGES = flag('passages', 5183);
const COPIES = flag('copies', 2);
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
async function fill(nc: NatsConnection, config: Config, databaseUrl: string, docs: number) {
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
    for (let c = 0; c < COPIES; c++) {
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
    p.child.kill('SIGTERM');
    await new Promise((r) => p.child.once('exit', r));
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

async function main(): Promise<void> {
  const { natsUrl, databaseUrl } = servers();
  const nc = await connect({ servers: natsUrl, noAsyncTraces: true });
  const db = await benchDatabase(databaseUrl);
  const config = loadConfig(
    {},
    {
      natsUrl: [natsUrl],
      databaseUrl: db.url,
      namespace: benchNamespace('brp'),
      modelsDir: MODELS_DIR,
      models: [LIVE_MODEL],
    },
  );
  const docs = Math.min(PASSAGES, 5183) * COPIES;
  const database = createDatabase({ url: db.url, max: 4 });
  try {
    await applyTopology(await jetstreamManager(nc), nc, declareTopology(config));
    process.stderr.write(`filling the streams: ${docs} documents through the pipeline… `);
    const fillSeconds = await fill(nc, config, db.url, docs);
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
    const replays: Record<string, { events: number; seconds: number; rate: number }> = {};
    for (const name of ['documents', 'collections', 'index'] as Replayable[]) {
      process.stderr.write(`replaying ${name}… `);
      const r = await replayer.run(name);
      replays[name] = { events: r.events, seconds: r.seconds, rate: r.events / r.seconds };
      process.stderr.write(
        `${r.events} events in ${r.seconds.toFixed(1)} s ${JSON.stringify(r.phases)}\n`,
      );
    }

    const rows = await sql<{ headings: string[]; text: string }[]>`
      SELECT headings, text FROM index_chunks ORDER BY document_id, chunk_index LIMIT ${REEMBED}`;
    const sample = rows.map(embedTextOf);
    const all = (
      await sql<{ headings: string[]; text: string }[]>`
      SELECT headings, text FROM index_chunks ORDER BY collection, document_id, chunk_index`
    ).map(embedTextOf);
    process.stderr.write(`re-embedding ${sample.length} chunks with ${TRANSFORMER}… `);
    const transformerRate = await reembed(TRANSFORMER, sample);
    process.stderr.write(
      `${transformerRate.toFixed(1)} chunks/s; ${all.length} with ${LIVE_MODEL}… `,
    );
    const staticRate = await reembed(LIVE_MODEL, all);
    process.stderr.write(`${staticRate.toFixed(0)} chunks/s\n`);

    const index = replays.index!;
    const indexChunkRate = chunks / index.seconds;
    const r1 = (x: number): number => Math.round(x);
    process.stdout.write(
      `\nReplay benchmark — ${docs.toLocaleString('en-US')} documents (${PASSAGES} SciFact passages × ${COPIES}) → ` +
        `${chunks.toLocaleString('en-US')} chunks, indexed live with ${LIVE_MODEL} in ${fillSeconds.toFixed(0)} s; ` +
        `replay = shadow tables + indexes + swap + catch-up; ${THREADS} embedding threads; ${machine()}\n\n`,
    );
    process.stdout.write(
      `${table(
        ['work', 'events', 'seconds', 'events/s', 'chunks/s', 'goal'],
        [
          [
            'replay documents projection (events + status streams)',
            replays.documents!.events,
            Math.round(replays.documents!.seconds * 10) / 10,
            r1(replays.documents!.rate),
            '—',
            '≥ 50,000 events/s',
          ],
          [
            'replay collections projection (events + status streams)',
            replays.collections!.events,
            Math.round(replays.collections!.seconds * 10) / 10,
            r1(replays.collections!.rate),
            '—',
            '—',
          ],
          [
            'replay vector index (vectors stream, no embedding)',
            index.events,
            Math.round(index.seconds * 10) / 10,
            r1(index.rate),
            r1(indexChunkRate),
            '≥ 60× re-embedding',
          ],
          [
            `re-embed the chunks with ${TRANSFORMER} (${sample.length} chunks)`,
            '—',
            '—',
            '—',
            Math.round(transformerRate * 10) / 10,
            '—',
          ],
          [
            `re-embed the chunks with ${LIVE_MODEL} (${all.length} chunks)`,
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
  } finally {
    await database.close();
    await deleteNamespace(nc, config.namespace);
    await nc.close();
    await db.drop();
  }
}

await main();
