import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropPrevious, rollback as swapBack } from '../src/db/shadow.js';
import { createSubscription } from '../src/output/subscriptions.js';
import { buildApp } from '../src/api/app.js';
import { startApp, type RunningApp } from '../src/app/start.js';
import type { Config } from '../src/config/index.js';
import { search } from '../src/consumers/indexer/search.js';
import type { embedderHandler } from '../src/consumers/embedder/embedder-handler.js';
import { isSluiceError } from '../src/errors/index.js';
import { createLogger } from '../src/logger.js';
import { embeddingsTotal } from '../src/metrics.js';
import { Producer } from '../src/producers/index.js';
import { getDocument, listDocuments } from '../src/projections/index.js';
import { Replayer, replayTarget, type Replayable } from '../src/replay/index.js';
import { durables, projections, streamName, deleteNamespace } from '../src/topology/index.js';
import { checksum } from './harness/checksums.js';
import { createTestDatabase, type TestDatabase } from './harness/database.js';
import { pipelineConfig, until } from './harness/pipeline.js';

describe('replay: rebuild projections from their streams', () => {
  let db: TestDatabase;
  let nc: NatsConnection;
  let config: Config;
  let app: RunningApp;
  let replayer: Replayer;
  const embedded = () =>
    (
      app.roles.find((r) => r.name === 'embedder') as unknown as {
        handlers: ReturnType<typeof embedderHandler>[];
      }
    ).handlers[0]!.stats.computed;

  const waitIdle = async (): Promise<void> => {
    const jsm = await jetstreamManager(nc);
    const idle = async (stream: 'events' | 'chunks' | 'vectors' | 'status', durable: string) => {
      const i = await jsm.consumers.info(streamName(config.namespace, stream), durable);
      return i.num_pending === 0 && i.num_ack_pending === 0;
    };
    await until(
      async () => {
        for (const [s, d] of [
          ['events', durables.chunker],
          ['chunks', durables.embedder(config.models[0]!)],
          ['vectors', durables.indexer],
          ...projections.flatMap((p) => [
            ['events', durables.projection(p, 'events')],
            ['status', durables.projection(p, 'status')],
          ]),
        ] as ['events', string][]) {
          if (!(await idle(s, d))) return false;
        }
        return true;
      },
      120_000,
      'pipeline idle',
    );
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    config = pipelineConfig(db.url, {
      roles: ['chunker', 'embedder', 'indexer', 'projector'],
      replayBatch: 50,
    });
    app = await startApp(config, createLogger({ level: 'silent' }), { handleSignals: false });
    nc = await connect({ servers: config.natsUrl });
    replayer = new Replayer({ nc, sql: db.sql, config, logger: createLogger({ level: 'silent' }) });
    const producer = new Producer({ nc, namespace: config.namespace });
    const topics = ['storage', 'network', 'billing', 'search', 'queues'];
    for (let i = 0; i < 60; i++) {
      await producer.publish(
        producer.event('sluice.document.upserted.v1', {
          tenant: i % 7 === 0 ? 'beta' : 'acme',
          collection: `c${i % 3}`,
          documentId: `doc-${i}`,
          title: `Doc ${i}`,
          text: `Document ${i} is about ${topics[i % 5]}. `.repeat(10 + (i % 9) * 20),
          metadata: { topic: topics[i % 5]! },
        }),
      );
    }
    for (let i = 0; i < 60; i += 6) {
      await producer.publish(
        producer.event('sluice.document.upserted.v1', {
          tenant: i % 7 === 0 ? 'beta' : 'acme',
          collection: `c${i % 3}`,
          documentId: `doc-${i}`,
          text: 'Shorter now.',
        }),
      );
    }
    for (let i = 3; i < 60; i += 10) {
      await producer.publish(
        producer.event('sluice.document.deleted.v1', {
          tenant: i % 7 === 0 ? 'beta' : 'acme',
          collection: `c${i % 3}`,
          documentId: `doc-${i}`,
        }),
      );
    }
    await waitIdle();
  }, 180_000);
  afterAll(async () => {
    await app?.stop();
    await deleteNamespace(nc, config.namespace);
    await nc?.close();
    await db?.drop();
  });

  const sums = async (name: Replayable, schema = 'public') => {
    const out: Record<string, string> = {};
    for (const t of replayTarget(name, db.sql, nc, config.namespace).tables)
      out[t] = await checksum(db.sql, t, schema);
    return out;
  };

  /** Queries of the projection's readers, in a loop until stopped; counts failures. */
  const queryLoop = (name: Replayable) => {
    let stop = false;
    let ok = 0;
    const failures: unknown[] = [];
    const done = (async () => {
      while (!stop) {
        try {
          if (name === 'documents') {
            await getDocument(db.sql, 'acme', 'c1', 'doc-1');
            await listDocuments(db.sql, 'acme', { limit: 20 });
          } else if (name === 'collections') {
            await db.sql`SELECT * FROM proj_collections WHERE tenant = 'acme'`;
          } else {
            const [v] = await db.sql<
              { e: string; m: string }[]
            >`SELECT embedding::text AS e, model_id AS m FROM index_chunks LIMIT 1`;
            const vector = new Float32Array(JSON.parse(v!.e) as number[]);
            await search(db.sql, {
              tenant: 'acme',
              modelId: v!.m,
              dimensions: 384,
              mode: 'hybrid',
              terms: ['storag'],
              vector,
              k: 5,
            });
          }
          ok++;
        } catch (err) {
          failures.push(err);
        }
      }
    })();
    return {
      stop: async () => {
        stop = true;
        await done;
        return { ok, failures };
      },
    };
  };

  it.each(['documents', 'collections', 'index'] as const)(
    'rebuilds %s into shadow tables identical to the live ones, swapping them in while queries keep succeeding',
    async (name) => {
      const before = await sums(name);
      const embeddings = embedded();
      const metric = (await embeddingsTotal.get()).values.reduce((n, v) => n + v.value, 0);
      const loop = queryLoop(name);
      const progress: number[] = [];
      // The loop stops whatever happens, or it would run on into the next tests.
      const result = await replayer
        .run(name, { onProgress: (p) => progress.push(p.fraction) })
        .finally(() => loop.stop());
      const { ok, failures } = await loop.stop();

      expect(failures).toEqual([]);
      expect(ok).toBeGreaterThan(0);
      expect(result.events).toBeGreaterThan(0);
      expect(progress[progress.length - 1]).toBe(1);
      expect(await sums(name)).toEqual(before);
      // The replaced tables are kept for a rollback.
      expect(await sums(name, `sluice_prev_${name}`)).toEqual(before);
      // Nothing is chunked or embedded again: the index comes from the vectors stream.
      expect(embedded()).toBe(embeddings);
      expect((await embeddingsTotal.get()).values.reduce((n, v) => n + v.value, 0)).toBe(metric);
      expect((await replayer.progress(name))!.status).toBe('done');
    },
    120_000,
  );

  it('refuses a second replay while previous tables are kept, and a concurrent one', async () => {
    await expect(replayer.run('documents')).rejects.toMatchObject({
      code: 'REPLAY_PREVIOUS_EXISTS',
    });
    const first = replayer.run('documents', { replacePrevious: true });
    await new Promise((r) => setTimeout(r, 50));
    let err: unknown;
    try {
      await replayer.run('documents', { replacePrevious: true });
    } catch (e) {
      err = e;
    }
    await first;
    expect(isSluiceError(err, 'REPLAY_RUNNING')).toBe(true);
  });

  it('replays from a sequence over the live rows, and rolls back with what came since', async () => {
    const full = await sums('documents');
    const jsm = await jetstreamManager(nc);
    const last = (await jsm.streams.info(streamName(config.namespace, 'events'))).state.last_seq;
    const fromSeq = last - 5;
    await replayer.run('documents', { fromSeq, replacePrevious: true });
    // The last six events were applied again over a copy of the live rows: the rows
    // before them are all still there, and nothing changed.
    const [counts] = await db.sql<{ inRange: number; before: number }[]>`
      SELECT count(*) FILTER (WHERE received_version >= ${fromSeq})::int AS "inRange",
             count(*) FILTER (WHERE received_version > 0 AND received_version < ${fromSeq})::int AS before
      FROM proj_documents`;
    expect(counts!.inRange).toBe(6);
    expect(counts!.before).toBeGreaterThan(40);
    expect(await sums('documents')).toEqual(full);

    // Events after the swap reach the new tables only; a rollback re-applies them to the
    // old ones it puts back.
    const producer = new Producer({ nc, namespace: config.namespace });
    for (let i = 0; i < 3; i++)
      await producer.publish(
        producer.event('sluice.document.upserted.v1', {
          tenant: 'acme',
          collection: 'c0',
          documentId: `after-swap-${i}`,
          text: `Written after the swap, number ${i}.`,
        }),
      );
    await waitIdle();
    const current = await sums('documents');
    expect(current).not.toEqual(full);
    const { reapplied } = await replayer.rollback('documents');
    expect(reapplied).toBeGreaterThanOrEqual(3);
    expect(await sums('documents')).toEqual(current);
    // A second rollback swaps the replayed tables back, current too.
    await replayer.rollback('documents');
    expect(await sums('documents')).toEqual(current);
  });

  it('gives up a swap after the lock timeout when a long query holds the tables', async () => {
    const reader = await db.sql.reserve();
    try {
      await reader`BEGIN`;
      await reader`SELECT count(*) FROM proj_documents`; // holds its lock until the end
      const t0 = Date.now();
      const tables = replayTarget('documents', db.sql, nc, config.namespace).tables;
      await expect(swapBack(db.sql, 'documents', tables)).rejects.toMatchObject({
        code: 'SWAP_BUSY',
      });
      // It gives up after the 5 s lock timeout; the bound only catches a wait without end.
      expect(Date.now() - t0).toBeLessThan(60_000);
    } finally {
      await reader`ROLLBACK`;
      reader.release();
    }
  }, 90_000);

  it('announces a finished replay to the subscriptions that ask for it', async () => {
    const asking = await createSubscription(db.sql, {
      tenant: 'acme',
      url: 'https://example.com/replays',
      events: ['replay.completed'],
    });
    const all = await createSubscription(db.sql, {
      tenant: 'beta',
      url: 'https://example.com/all',
    });
    await replayer.run('collections', { replacePrevious: true });
    const rows = await db.sql<
      { subscription_id: string; event_type: string; payload: { data: { projection: string } } }[]
    >`
      SELECT subscription_id, event_type, payload FROM webhook_deliveries WHERE event_type LIKE 'replay.%'`;
    expect(rows.map((r) => r.subscription_id)).toEqual([asking.id]);
    expect(rows[0]!.payload.data.projection).toBe('collections');
    expect(rows.some((r) => r.subscription_id === all.id)).toBe(false);
  });

  it('stores its phase: done after a replay, and nothing outside load, catch-up, done', async () => {
    const [row] = await db.sql<{ phase: string; status: string }[]>`
      SELECT phase, status FROM replays WHERE projection = 'collections'`;
    expect(row).toEqual({ phase: 'done', status: 'done' });
    await expect(
      db.sql`UPDATE replays SET phase = 'swapping' WHERE projection = 'collections'`,
    ).rejects.toMatchObject({ code: '23514' }); // check_violation
  });

  it('refuses a rollback when no replay kept previous tables', async () => {
    await dropPrevious(db.sql, 'collections');
    await expect(replayer.rollback('collections')).rejects.toMatchObject({
      code: 'ROLLBACK_UNAVAILABLE',
    });
  });

  it('runs, reports and refuses replays over HTTP', async () => {
    const api = await buildApp({
      logger: createLogger({ level: 'silent' }),
      bodyLimit: 1024,
      auth: { mode: 'off', tenant: 'acme' },
      ingest: { producer: new Producer({ nc, namespace: config.namespace }) },
      replayer,
    });
    try {
      const post = (url: string, payload: object = {}) =>
        api.inject({ method: 'POST', url, payload });
      expect((await post('/v1/replays/nonsense')).json().error.code).toBe('REQUEST_INVALID');
      expect((await post('/v1/replays/collections', { fromSeq: 0 })).statusCode).toBe(400);
      expect((await post('/v1/replays/collections/cancel')).statusCode).toBe(404);

      const started = await post('/v1/replays/collections', { replacePrevious: true });
      expect(started.statusCode).toBe(202);
      let last: { status: string; fraction: number; etaSeconds: number | null } | undefined;
      await until(async () => {
        const r = await api.inject({ method: 'GET', url: '/v1/replays/collections' });
        last = r.json();
        return last!.status === 'done';
      });
      expect(last).toMatchObject({ fraction: 1, etaSeconds: 0 });
      const all = (await api.inject({ method: 'GET', url: '/v1/replays' })).json<{
        items: { projection: string }[];
      }>();
      expect(all.items.map((i) => i.projection)).toContain('collections');
    } finally {
      await api.close();
    }
  });
});
