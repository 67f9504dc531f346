import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from '../src/app/start.js';
import type { Config } from '../src/config/index.js';
import { shadowExists } from '../src/db/shadow.js';
import { createLogger } from '../src/logger.js';
import { Producer } from '../src/producers/index.js';
import { replayTarget } from '../src/replay/index.js';
import { durables, projections, streamName, deleteNamespace } from '../src/topology/index.js';
import { checksum } from './harness/checksums.js';
import { createTestDatabase, type TestDatabase } from './harness/database.js';
import { pipelineConfig, until } from './harness/pipeline.js';
import { startSluice } from './harness/process.js';

describe('a replay process killed mid-way resumes', () => {
  let db: TestDatabase;
  let nc: NatsConnection;
  let config: Config;
  let app: RunningApp;

  beforeAll(async () => {
    db = await createTestDatabase();
    config = pipelineConfig(db.url, { roles: ['chunker', 'embedder', 'indexer', 'projector'] });
    app = await startApp(config, createLogger({ level: 'silent' }), { handleSignals: false });
    nc = await connect({ servers: config.natsUrl });
    const producer = new Producer({ nc, namespace: config.namespace });
    await producer.publishBatch(
      Array.from({ length: 250 }, (_, i) =>
        producer.event('sluice.document.upserted.v1', {
          tenant: 'acme',
          collection: 'c',
          documentId: `d${i}`,
          text: `Document ${i}. `.repeat(5 + (i % 40) * 10),
        }),
      ),
    );
    const jsm = await jetstreamManager(nc);
    await until(
      async () => {
        for (const p of projections) {
          for (const s of ['events', 'status'] as const) {
            const i = await jsm.consumers.info(
              streamName(config.namespace, s),
              durables.projection(p, s),
            );
            if (i.num_pending > 0 || i.num_ack_pending > 0 || i.delivered.stream_seq === 0)
              return false;
          }
        }
        const [row] = await db.sql<
          { n: number }[]
        >`SELECT count(*)::int AS n FROM proj_documents WHERE status = 'indexed'`;
        return row!.n === 250;
      },
      180_000,
      'everything indexed and projected',
    );
    await app.stop();
  }, 240_000);
  afterAll(async () => {
    await deleteNamespace(nc, config.namespace);
    await nc?.close();
    await db?.drop();
  });

  it('resumes after kill -9 and ends with the same rows as the live tables', async () => {
    const tables = replayTarget('documents', db.sql, nc, config.namespace).tables;
    const before = await Promise.all(tables.map((t) => checksum(db.sql, t)));
    const env = {
      NATS_URL: config.natsUrl.join(','),
      DATABASE_URL: db.url,
      SLUICE_NAMESPACE: config.namespace,
      SLUICE_REPLAY_BATCH: '1', // one message per transaction: slow enough to be killed mid-way
      LOG_LEVEL: 'warn',
    };
    const first = startSluice(['replay', 'documents'], env);
    const fraction = async (): Promise<number> => {
      const [row] = await db.sql<
        { streams: Record<string, { start: number; stop: number; applied: number }> }[]
      >`
        SELECT streams FROM replays WHERE projection = 'documents'`;
      if (!row) return 0;
      const s = Object.values(row.streams);
      const total = s.reduce((n, x) => n + (x.stop - x.start + 1), 0);
      return s.reduce((n, x) => n + Math.max(0, x.applied - x.start + 1), 0) / total;
    };
    await until(async () => (await fraction()) > 0.1, 120_000, 'the replay got going');
    expect(await first.kill('SIGKILL')).toBe('SIGKILL');
    const atKill = await fraction();
    expect(atKill).toBeLessThan(1);
    expect(await shadowExists(db.sql, 'documents', tables)).toBe(true);

    const second = startSluice(['replay', 'documents', '--resume', '--json'], {
      ...env,
      SLUICE_REPLAY_BATCH: '200',
    });
    expect(await second.exited, second.output()).toBe(0);
    const result = JSON.parse(second.output().trim().split('\n').pop()!) as { events: number };
    expect(result.events).toBeGreaterThan(0);
    expect(await Promise.all(tables.map((t) => checksum(db.sql, t)))).toEqual(before);
    const [row] = await db.sql<
      { status: string }[]
    >`SELECT status FROM replays WHERE projection = 'documents'`;
    expect(row!.status).toBe('done');
  }, 300_000);
});
