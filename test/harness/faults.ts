import { connect, type NatsConnection } from '@nats-io/transport-node';
import { expect } from 'vitest';
import { DeadLetters } from '../../src/dead-letters/index.js';
import { createDatabase, type Database } from '../../src/db/index.js';
import { Producer } from '../../src/producers/index.js';
import { PipelinePublisher } from '../../src/runtime/publisher.js';
import { deleteNamespace } from '../../src/topology/index.js';
import { testModelsDir } from './models.js';
import { uniqueNamespace } from './names.js';
import { pipelineModel } from './pipeline.js';
import { startSluice, waitForLog, type SluiceProcess } from './process.js';
import { freePort } from './servers.js';

/**
 * A real Sluice process (every role) against given servers, for the fault tests: each
 * fault is a file of its own (faults-*.e2e.test.ts), so that they run side by side.
 */
export const text = (i: number): string =>
  `Document ${i} is about topic ${i % 13}. ${'It says a few plain things about the system, in sentences of ordinary length. '.repeat(1 + (i % 4))}`;

export interface Fixture {
  proc: SluiceProcess;
  nc: NatsConnection;
  db: Database;
  namespace: string;
  address: string;
  cleanup: () => Promise<void>;
}

export async function startFixture(o: {
  natsUrl: string;
  databaseUrl: string;
  env?: Record<string, string>;
}): Promise<Fixture> {
  const namespace = uniqueNamespace('f');
  const port = await freePort();
  const proc = startSluice(['start'], {
    LOG_FORMAT: 'json',
    NATS_URL: o.natsUrl,
    DATABASE_URL: o.databaseUrl,
    SLUICE_NAMESPACE: namespace,
    SLUICE_MODELS_DIR: testModelsDir(),
    SLUICE_MODELS: pipelineModel,
    SLUICE_HTTP_PORT: String(port),
    SLUICE_HTTP_HOST: '127.0.0.1',
    ...o.env,
  });
  await waitForLog(proc, 'sluice started', 120_000);
  const nc = await connect({
    servers: o.natsUrl,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
  });
  const db = createDatabase({ url: o.databaseUrl, max: 2 });
  return {
    proc,
    nc,
    db,
    namespace,
    address: `http://127.0.0.1:${port}`,
    cleanup: async () => {
      await proc.kill('SIGTERM');
      await deleteNamespace(nc, namespace).catch(() => {});
      await nc.close();
      await db.close();
    },
  };
}

/** Documents whose index rows and read model both say: this version, every chunk. */
export async function indexedOnce(db: Database, versions: Map<string, number>): Promise<number> {
  const rows = await db.sql<{ document_id: string; version: number; ok: boolean }[]>`
    SELECT d.document_id, d.version::int AS version,
           d.chunk_count = count(c.chunk_index) AND d.chunk_count > 0 AS ok
    FROM index_documents d
    LEFT JOIN index_chunks c USING (model_id, tenant, collection, document_id)
    GROUP BY d.document_id, d.version, d.chunk_count`;
  const status = new Map(
    (
      await db.sql<{ document_id: string; version: number; status: string }[]>`
        SELECT document_id, version::int AS version, status FROM proj_documents`
    ).map((r) => [r.document_id, r]),
  );
  let n = 0;
  for (const r of rows) {
    const s = status.get(r.document_id);
    if (
      r.ok &&
      r.version === versions.get(r.document_id) &&
      s?.version === r.version &&
      s.status === 'indexed'
    )
      n++;
  }
  return n;
}

export async function deadLetters(nc: NatsConnection, namespace: string): Promise<number> {
  const letters = new DeadLetters(nc, namespace, new PipelinePublisher({ nc, source: 'urn:test' }));
  return (await letters.list({ limit: 1000 })).items.length;
}

export async function publishAll(
  nc: NatsConnection,
  namespace: string,
  n: number,
  versions: Map<string, number>,
): Promise<void> {
  const producer = new Producer({ nc, namespace });
  const summary = await producer.publishBatch(
    Array.from({ length: n }, (_, i) =>
      producer.event('sluice.document.upserted.v1', {
        tenant: 'acme',
        collection: 'docs',
        documentId: `doc-${i}`,
        text: text(i),
      }),
    ),
    { onResult: (r) => versions.set(`doc-${r.index}`, r.seq!) },
  );
  expect(summary.accepted).toBe(n);
}
