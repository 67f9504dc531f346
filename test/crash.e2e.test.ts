import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../src/config/index.js';
import { Producer } from '../src/producers/index.js';
import { deleteNamespace } from '../src/topology/index.js';
import { createTestDatabase, type TestDatabase } from './harness/database.js';
import { RANDOM_MODEL, hasModel, testModelsDir } from './harness/models.js';
import { indexedDocs, pipelineConfig, pipelineModel, until } from './harness/pipeline.js';
import { startSluice, waitForLog, type SluiceProcess } from './harness/process.js';

// The random-weight MiniLM is slow enough (~90 chunks/s) that the kill lands mid-batch.
const model = hasModel(RANDOM_MODEL) ? RANDOM_MODEL : pipelineModel;

describe('kill -9 mid-batch, then restart', () => {
  let db: TestDatabase;
  let nc: NatsConnection;
  let config: Config;
  let env: Record<string, string>;
  let proc: SluiceProcess | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
    config = pipelineConfig(db.url, { models: [model] });
    env = {
      NATS_URL: config.natsUrl.join(','),
      DATABASE_URL: db.url,
      SLUICE_NAMESPACE: config.namespace,
      SLUICE_MODELS_DIR: testModelsDir(),
      SLUICE_MODELS: model,
      SLUICE_ROLES: 'chunker,embedder,indexer',
      SLUICE_ACK_WAIT: '5s',
    };
    nc = await connect({ servers: config.natsUrl });
  });
  afterAll(async () => {
    await proc?.kill('SIGKILL');
    await deleteNamespace(nc, config.namespace);
    await nc?.close();
    await db?.drop();
  });

  it('loses nothing and duplicates nothing', async () => {
    proc = startSluice(['start'], env);
    await waitForLog(proc, 'sluice started');
    const producer = new Producer({ nc, namespace: config.namespace });
    const N = 300;
    const versions = new Map<string, number>();
    const summary = await producer.publishBatch(
      Array.from({ length: N }, (_, i) =>
        producer.event('sluice.document.upserted.v1', {
          tenant: 'acme',
          collection: 'docs',
          documentId: `doc-${i}`,
          text: `Document ${i}. ${'It describes a part of the system in a few plain sentences. '.repeat(2 + (i % 5))}`,
        }),
      ),
      { onResult: (r) => versions.set(`doc-${r.index}`, r.seq!) },
    );
    expect(summary.accepted).toBe(N);

    const rows = async (): Promise<number> =>
      (await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM index_chunks`)[0]!.n;
    await until(async () => (await rows()) >= 40, 120_000, 'some chunks indexed');
    expect(await proc.kill('SIGKILL')).toBe('SIGKILL');
    const atKill = await indexedDocs(db.sql);
    expect(atKill.size).toBeLessThan(N); // it really died mid-run

    proc = startSluice(['start'], env);
    await until(
      async () => {
        const docs = await indexedDocs(db.sql);
        return (
          docs.size === N && [...docs.values()].every((d) => d.rows === d.chunk_count && d.rows > 0)
        );
      },
      240_000,
      `all ${N} documents indexed after the restart`,
    );
    const docs = await indexedDocs(db.sql);
    for (let i = 0; i < N; i++) {
      const d = docs.get(`doc-${i}`)!;
      expect(d.version).toBe(versions.get(`doc-${i}`));
      expect(d).toMatchObject({ deleted: false, stale_rows: 0, max_index: d.chunk_count - 1 });
    }
    const [dupes] = await db.sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM (SELECT chunk_id FROM index_chunks GROUP BY model_id, chunk_id HAVING count(*) > 1) x`;
    expect(dupes!.n).toBe(0);
    await proc.kill('SIGTERM');
  }, 400_000);
});
