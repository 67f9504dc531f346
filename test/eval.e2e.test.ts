import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey } from '../src/api/keys.js';
import { startApp, type RunningApp } from '../src/app/start.js';
import { formatEval } from '../src/cli/commands/eval.js';
import { ApiClient } from '../src/eval/client.js';
import { evaluate, type Progress } from '../src/eval/evaluate.js';
import { createLogger } from '../src/logger.js';
import { deleteNamespace } from '../src/topology/index.js';
import { connect } from '@nats-io/transport-node';
import { createTestDatabase, type TestDatabase } from './harness/database.js';
import { client } from './harness/http.js';
import { pipelineConfig } from './harness/pipeline.js';

const DATASET = join(import.meta.dirname, 'fixtures/beir-mini');

/** Records what the evaluator reports as progress. */
function recorder(): Progress & { stages: string[] } {
  const stages: string[] = [];
  return { stages, start: (l) => stages.push(l), tick: () => {}, update: () => {}, stop: () => {} };
}

describe('sluice eval on a small BEIR-format dataset, through the HTTP API', () => {
  let db: TestDatabase;
  let app: RunningApp;
  let address: string;
  let key: string;
  let namespace: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    const config = pipelineConfig(db.url, {
      roles: ['api', 'chunker', 'embedder', 'indexer', 'projector'],
      httpPort: 0,
      auth: 'keys',
    });
    namespace = config.namespace;
    app = await startApp(config, createLogger({ level: 'silent' }), { handleSignals: false });
    address = (app.roles.find((r) => r.name === 'api') as unknown as { address: string }).address;
    key = (await createKey(db.sql, { tenant: 'acme', admin: true })).key;
  });
  afterAll(async () => {
    await app?.stop();
    const nc = await connect({ servers: pipelineConfig(db.url).natsUrl });
    await deleteNamespace(nc, namespace);
    await nc.close();
    await db?.drop();
  });

  const run = (o: { split: string; ingest?: boolean; calibrate?: boolean }) => {
    const progress = recorder();
    return {
      progress,
      report: evaluate({
        dir: DATASET,
        client: new ApiClient(address, key),
        collection: 'mini',
        tenant: 'acme',
        split: o.split,
        modes: ['vector', 'keyword', 'hybrid'],
        k: 100,
        concurrency: 2,
        ingest: o.ingest ?? false,
        waitSeconds: 120,
        calibrate: o.calibrate ?? false,
        hnswRecall: true,
        progress,
      }),
    };
  };

  it('ingests, waits until indexed, calibrates on train and stores the weight', async () => {
    const { report, progress } = run({ split: 'train', ingest: true, calibrate: true });
    const r = await report;
    expect(r.ingested?.documents).toBe(8);
    expect(progress.stages.slice(0, 3)).toEqual([
      `publishing ${DATASET}`,
      'waiting until indexed',
      'calibrating on train',
    ]);
    expect(r.queries).toBe(4);
    expect(r.calibration?.grid).toHaveLength(21);
    const stored = await client(address, key).get('/v1/collections/mini/fusion');
    expect(stored.json).toMatchObject({
      vectorWeight: r.calibration!.vectorWeight,
      source: 'calibrated',
      calibration: { split: 'train', metric: 'ndcg@10', queries: 4 },
    });
  });

  it('reports every mode on test with the stored weight, and the HNSW recall', async () => {
    const r = await run({ split: 'test' }).report;
    const by = Object.fromEntries(r.modes.map((m) => [m.mode, m]));
    // Each test query names its passage's rarest words: keyword search ranks it first.
    expect(by.keyword).toMatchObject({ ndcg10: 1, recall100: 1, mrr10: 1, empty: 0 });
    expect(by.hybrid!.weightSource).toBe('calibrated');
    expect(by.hybrid!.ndcg10).toBeGreaterThanOrEqual(
      Math.min(by.keyword!.ndcg10, by.vector!.ndcg10),
    );
    expect(r.hnsw).toEqual({ recall10: 1, queries: 4 });
    const text = formatEval(r);
    expect(text).toMatch(/\| keyword \| 1\.000 +\| 1\.000 +\| 1\.000 +\| 0 /);
    expect(text).toContain('HNSW recall@10 against an exact scan: 1.000 over 4 queries');
  });

  it('refuses a split without judgements', async () => {
    await expect(run({ split: 'dev' }).report).rejects.toThrow(/qrels\/dev\.tsv is missing/);
  });
});
