import { connect, type NatsConnection } from '@nats-io/transport-node';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from '../src/app/start.js';
import type { Config } from '../src/config/index.js';
import { DeadLetters } from '../src/dead-letters/index.js';
import { PipelinePublisher } from '../src/runtime/publisher.js';
import { createDatabase, type Database } from '../src/db/index.js';
import { createLogger } from '../src/logger.js';
import { Producer } from '../src/producers/index.js';
import { deleteNamespace } from '../src/topology/index.js';
import { indexedDocs, pipelineConfig, until } from './harness/pipeline.js';
import { startPostgres, type PostgresHandle } from './harness/servers.js';

describe('pipeline through a PostgreSQL outage', () => {
  let pg: PostgresHandle;
  let db: Database;
  let nc: NatsConnection;
  let config: Config;
  let app: RunningApp;

  beforeAll(async () => {
    pg = await startPostgres();
    const admin = postgres(pg.url, { max: 1, onnotice: () => {} });
    await admin`CREATE DATABASE sluice`;
    await admin.end();
    const url = pg.url.replace(/\/postgres$/, '/sluice');
    config = pipelineConfig(url, { retryBackoff: 1_000 });
    app = await startApp(config, createLogger({ level: 'silent' }), { handleSignals: false });
    db = createDatabase({ url, max: 2 });
    nc = await connect({ servers: config.natsUrl });
  }, 120_000);
  afterAll(async () => {
    await app?.stop();
    await db?.close();
    await deleteNamespace(nc, config.namespace);
    await nc?.close();
    await pg?.dispose();
  });

  it('indexes everything once PostgreSQL is back after 10 s down, and dead-letters nothing', async () => {
    const producer = new Producer({ nc, namespace: config.namespace });
    const publish = async (from: number, n: number) => {
      for (let i = from; i < from + n; i++) {
        await producer.publish(
          producer.event('sluice.document.upserted.v1', {
            tenant: 'acme',
            collection: 'docs',
            documentId: `doc-${i}`,
            text: `Document ${i}. It talks about topic ${i % 7} at some length. Another sentence about ${i}.`,
          }),
        );
      }
    };
    await publish(0, 20);
    await until(async () => (await indexedDocs(db.sql)).size >= 5);

    await pg.stop('fast');
    const down = Date.now();
    await publish(20, 20); // NATS takes them while PostgreSQL is down
    await new Promise((r) => setTimeout(r, Math.max(0, 10_000 - (Date.now() - down))));
    await pg.start();

    await until(
      async () => {
        const docs = await indexedDocs(db.sql);
        return (
          docs.size === 40 &&
          [...docs.values()].every((d) => d.rows === d.chunk_count && d.rows > 0)
        );
      },
      120_000,
      'all 40 documents indexed',
    );
    const letters = new DeadLetters(
      nc,
      config.namespace,
      new PipelinePublisher({ nc, source: 'urn:test' }),
    );
    expect((await letters.list()).items).toEqual([]);
  }, 180_000);
});
