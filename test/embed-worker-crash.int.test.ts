import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApp } from '../src/app/start.js';
import type { Config } from '../src/config/index.js';
import { DeadLetters } from '../src/dead-letters/index.js';
import { PipelinePublisher } from '../src/runtime/publisher.js';
import type { Embedder } from '../src/models/index.js';
import { Producer } from '../src/producers/index.js';
import { startTestApp, type TestApp } from './harness/app.js';
import type { TestDatabase } from './harness/database.js';
import { RANDOM_MODEL, hasModel } from './harness/models.js';
import { indexedDocs, pipelineModel, until } from './harness/pipeline.js';

// The random-weight MiniLM embeds slowly enough that the kill lands mid-batch.
const model = hasModel(RANDOM_MODEL) ? RANDOM_MODEL : pipelineModel;

describe('the embedding worker killed mid-batch', () => {
  let t: TestApp;
  let db: TestDatabase;
  let nc: NatsConnection;
  let config: Config;
  let app: RunningApp;

  beforeAll(async () => {
    t = await startTestApp({ models: [model] });
    ({ db, nc, config, app } = t);
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
  });

  it('retries the batch it held: nothing lost, nothing doubled, nothing dead-lettered', async () => {
    const embedder = (
      app.roles.find((r) => r.name === 'embedder') as unknown as { embedders: Embedder[] }
    ).embedders[0]!;
    const producer = new Producer({ nc, namespace: config.namespace });
    const N = 200;
    const versions = new Map<string, number>();
    await producer.publishBatch(
      Array.from({ length: N }, (_, i) =>
        producer.event('sluice.document.upserted.v1', {
          tenant: 'acme',
          collection: 'docs',
          documentId: `doc-${i}`,
          text: `Document ${i}. ${'A sentence of plain words about the pipeline and its parts. '.repeat(3 + (i % 5))}`,
        }),
      ),
      { onResult: (r) => versions.set(`doc-${r.index}`, r.seq!) },
    );
    await until(async () => (await indexedDocs(db.sql)).size >= 10, 120_000, 'some indexed');
    const before = embedder.threadId;
    // The worker takes the crash at its next turn: a batch that was nearly done can finish
    // first (seen once on a loaded machine). So crash it while it holds a batch, until a
    // crash lands on one; a crash that missed only restarts an idle worker.
    await until(
      () => {
        if (embedder.lostToExit > 0) return true;
        if (embedder.inFlight > 0 && embedder.alive) embedder.crashWorker();
        return false;
      },
      120_000,
      'a crash that lands on a batch in the worker',
    );
    await until(
      async () => {
        const docs = await indexedDocs(db.sql);
        return (
          docs.size === N && [...docs.values()].every((d) => d.rows === d.chunk_count && d.rows > 0)
        );
      },
      240_000,
      `all ${N} documents indexed after the kill`,
    );
    expect(embedder.restarts).toBeGreaterThanOrEqual(1);
    // The crash landed on a batch in progress, which failed with WORKER_EXITED and was
    // run again (the runtime splits a batch that fails for a reason not an outage).
    expect(embedder.lostToExit).toBeGreaterThan(0);
    expect(embedder.threadId).not.toBe(before);
    const docs = await indexedDocs(db.sql);
    for (const [id, d] of docs) {
      expect(d.version).toBe(versions.get(id));
      expect(d.max_index).toBe(d.chunk_count - 1); // every chunk once, none past the end
      expect(d.stale_rows).toBe(0);
    }
    const letters = new DeadLetters(
      nc,
      config.namespace,
      new PipelinePublisher({ nc, source: 'urn:test' }),
    );
    expect((await letters.list()).items).toEqual([]);
  }, 300_000);
});
