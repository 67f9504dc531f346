/**
 * Webhook delivery: documents through the whole pipeline with the output role in the
 * same process, and a local receiver that answers 200 at once. Prints, in one run, the
 * indexing rate, the delivery rate, and the added latency from `indexed` (the documents
 * read model's indexed_at) to the receiver having the delivery.
 *
 *   npm run bench:webhooks -- [--docs 2000]
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from '@nats-io/transport-node';
import { startApp } from '../src/app/start.js';
import { loadConfig } from '../src/config/index.js';
import { createLogger } from '../src/logger.js';
import { Producer } from '../src/producers/index.js';
import { createSubscription } from '../src/output/subscriptions.js';
import { deleteNamespace } from '../src/topology/index.js';
import {
  benchDatabase,
  benchNamespace,
  flag,
  machine,
  percentile,
  servers,
  sharedDir,
  table,
} from './lib.js';

const DOCS = flag('docs', 2000);

const received: { id: string; documentId: string; at: number }[] = [];
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString()));
  req.on('end', () => {
    const p = JSON.parse(body) as { data: { documentId: string } };
    received.push({
      id: String(req.headers['webhook-id']),
      documentId: p.data.documentId,
      at: Date.now(),
    });
    res.writeHead(200).end();
  });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;

const { natsUrl, databaseUrl } = servers();
const db = await benchDatabase(databaseUrl);
const namespace = benchNamespace('wh');
const config = loadConfig(
  {},
  {
    natsUrl: [natsUrl],
    databaseUrl: db.url,
    namespace,
    modelsDir: `${sharedDir}/models`,
    models: ['sluice-static-384'],
    roles: ['chunker', 'embedder', 'indexer', 'projector', 'output'],
    webhookAllow: ['127.0.0.0/8'],
  },
);
const app = await startApp(config, createLogger({ level: 'warn' }), { handleSignals: false });
const nc = await connect({ servers: natsUrl });
try {
  const sql = app.ctx.database.sql;
  await createSubscription(sql, { tenant: 'bench', url, events: ['document.indexed'] });
  const producer = new Producer({ nc, namespace });
  const t0 = Date.now();
  await producer.publishBatch(
    Array.from({ length: DOCS }, (_, i) =>
      producer.event('sluice.document.upserted.v1', {
        tenant: 'bench',
        collection: 'docs',
        documentId: `doc-${i}`,
        text: `Document ${i} is about topic ${i % 17}. It has two short sentences.`,
      }),
    ),
  );
  while (new Set(received.map((r) => r.id)).size < DOCS) {
    if (Date.now() - t0 > 600_000) throw new Error('deliveries did not finish in 10 minutes');
    await new Promise((r) => setTimeout(r, 200));
  }
  const rows = await sql<{ document_id: string; at: Date }[]>`
    SELECT document_id, indexed_at AS at FROM proj_documents WHERE tenant = 'bench'`;
  const indexedAt = new Map(rows.map((r) => [r.document_id, new Date(r.at).getTime()]));
  const indexedTimes = [...indexedAt.values()].sort((a, b) => a - b);
  const deliveredTimes = received.map((r) => r.at).sort((a, b) => a - b);
  const lags = received.map((r) => r.at - indexedAt.get(r.documentId)!).sort((a, b) => a - b);
  const rate = (ts: number[]) => (ts.length / Math.max(0.001, (ts.at(-1)! - t0) / 1000)).toFixed(1);
  console.log(
    `\nWebhook delivery — ${DOCS} documents, one subscription, receiver on loopback, ${machine()}\n`,
  );
  console.log(
    table(
      ['measure', 'value'],
      [
        ['documents indexed per second (publish → last indexed)', rate(indexedTimes)],
        ['deliveries per second (publish → last delivered)', rate(deliveredTimes)],
        [
          'ratio deliveries / indexing',
          (Number(rate(deliveredTimes)) / Number(rate(indexedTimes))).toFixed(3),
        ],
        ['indexed → delivered, p50 ms', percentile(lags, 50)],
        ['indexed → delivered, p99 ms', percentile(lags, 99)],
        ['requests received (duplicates included)', received.length],
      ],
    ),
  );
} finally {
  await app.stop();
  await deleteNamespace(nc, namespace);
  await nc.close();
  await db.drop();
  server.close();
}
