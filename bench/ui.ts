/**
 * The dashboard's page loads over a full index: 50k documents and 100k chunks (the read
 * model, the index rows and their keyword postings bulk-loaded), an API process of its
 * own, and Debian's headless Chromium. Each page is loaded in a fresh browser context
 * (empty cache) until its data shows; the table reports the median and the slowest.
 *
 *   npm run bench:ui -- [--chunks 100000] [--loads 5]
 */
import { join } from 'node:path';
import { buildUi } from '../scripts/build-ui.js';
import { createKey } from '../src/api/keys.js';
import { createDatabase } from '../src/db/index.js';
import { describeModel } from '../src/models/index.js';
import { deleteNamespace } from '../src/topology/index.js';
import { connect } from '@nats-io/transport-node';
import { launchBrowser } from '../test/harness/browser.js';
import {
  apiProcess,
  benchDatabase,
  benchNamespace,
  flag,
  machine,
  median,
  servers,
  sharedDir,
  table,
} from './lib.js';

const CHUNKS = flag('chunks', 100_000);
const LOADS = flag('loads', 5);
const MODEL = 'sluice-static-384';
const MODELS_DIR = join(sharedDir, 'models');

const { natsUrl, databaseUrl } = servers();
const db = await benchDatabase(databaseUrl);
const namespace = benchNamespace('bui');
const database = createDatabase({ url: db.url, max: 2 });
const sql = database.sql;
const spec = await describeModel(MODELS_DIR, MODEL, 'auto');
const docs = CHUNKS / 2;
process.stderr.write(`loading ${docs} documents and ${CHUNKS} chunks…\n`);
const t0 = performance.now();
await sql`
  INSERT INTO proj_documents (tenant, collection, document_id, version, status, received_version, title, bytes,
                              received_at, chunked_at, embedded_at, indexed_at, chunk_count, parts, model_id)
  SELECT 'bench', 'scifact', 'd' || g, g, CASE WHEN g % 100 = 0 THEN 'failed' ELSE 'indexed' END, g, 'Document ' || g, 1200,
         now() - interval '1 hour', now() - interval '59 minutes', now() - interval '58 minutes', now() - interval '57 minutes',
         2, 1, ${spec.id}
  FROM generate_series(1, ${docs}) AS g`;
await sql`
  INSERT INTO index_documents (model_id, tenant, collection, document_id, version, chunk_count)
  SELECT ${spec.id}, 'bench', 'scifact', 'd' || g, g, 2 FROM generate_series(1, ${docs}) AS g`;
await sql`
  INSERT INTO index_chunks (model_id, tenant, collection, document_id, chunk_index, chunk_id, version, content_hash, text,
                            headings, title, embedding, tsv)
  SELECT ${spec.id}, 'bench', 'scifact', 'd' || (g / 2 + 1), g % 2, md5(g::text), g / 2 + 1, md5(g::text),
         'Chunk ' || g || ' of a document about proteins, cells and the immune response.', '{}', 'Document ' || (g / 2 + 1),
         array_fill(0.05::real, ARRAY[${spec.dimensions}::int])::vector, to_tsvector('english', 'proteins cells immune response')
  FROM generate_series(0, ${CHUNKS - 1}) AS g`;
await sql`INSERT INTO proj_collections (tenant, collection, document_count, chunk_count) VALUES ('bench', 'scifact', ${docs}, ${CHUNKS})`;
await sql.unsafe('VACUUM ANALYZE proj_documents, index_documents, index_chunks');
const loaded = (performance.now() - t0) / 1000;
const { key } = await createKey(sql, { tenant: 'bench', admin: true, operator: true });
const sizes = await buildUi();

const api = await apiProcess({
  NATS_URL: natsUrl,
  DATABASE_URL: db.url,
  SLUICE_NAMESPACE: namespace,
  SLUICE_MODELS_DIR: MODELS_DIR,
  SLUICE_MODELS: MODEL,
});
const address = api.address;

const browser = await launchBrowser();
/** Pages and what shows once their data is there. */
const pages: { name: string; hash: string; ready: string }[] = [
  { name: 'pipeline', hash: '#/pipeline', ready: 'section.stage' },
  { name: 'collections', hash: '#/collections', ready: 'tr[data-collection="scifact"]' },
  { name: 'collection (first 50 documents)', hash: '#/collections/scifact', ready: 'tbody tr' },
  // d4242, or the last document when fewer are loaded (a smoke run loads 100).
  {
    name: 'document',
    hash: `#/documents/scifact/d${Math.min(4242, docs)}`,
    ready: 'ol.chunks li',
  },
  { name: 'models (coverage)', hash: '#/models', ready: 'progress' },
];
const rows: (string | number)[][] = [];
for (const p of pages) {
  const times: number[] = [];
  for (let i = 0; i < LOADS; i++) {
    const context = await browser.newContext();
    await context.addInitScript((k: string) => {
      (
        globalThis as unknown as { sessionStorage: { setItem(a: string, b: string): void } }
      ).sessionStorage.setItem('sluice.apiKey', k);
    }, key);
    const page = await context.newPage();
    const s = performance.now();
    await page.goto(`${address}/ui/${p.hash}`);
    await page.locator(p.ready).first().waitFor({ timeout: 30_000 });
    times.push(performance.now() - s);
    await context.close();
  }
  rows.push([p.name, Math.round(median(times)), Math.round(Math.max(...times))]);
}
await browser.close();
await api.stop();
const nc = await connect({ servers: natsUrl });
await deleteNamespace(nc, namespace);
await nc.close();
await database.close();
await db.drop();

console.log(
  `\n${machine()}; ${docs} documents, ${CHUNKS} chunks (loaded in ${loaded.toFixed(1)} s); ${LOADS} loads per page, each in a fresh context\n`,
);
console.log(table(['page', 'median ms to data shown', 'slowest ms'], rows));
console.log(
  `\n${table(
    ['file', 'KiB', 'gzip KiB'],
    sizes.map((s) => [s.file, Math.round(s.bytes / 102.4) / 10, Math.round(s.gzip / 102.4) / 10]),
  )}`,
);
