import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activateModel, coverage } from '../src/api/active-models.js';
import { startApp, type RunningApp } from '../src/app/start.js';
import type { Config } from '../src/config/index.js';
import type { embedderHandler } from '../src/consumers/embedder/embedder-handler.js';
import { createLogger } from '../src/logger.js';
import { durables, retryDurable, streamName, deleteNamespace } from '../src/topology/index.js';
import { runCli } from './harness/cli.js';
import { createTestDatabase, type TestDatabase } from './harness/database.js';
import { client } from './harness/http.js';
import { RANDOM_MODEL, STATIC_MODEL, hasModel, testModelsDir } from './harness/models.js';
import { pipelineConfig, until } from './harness/pipeline.js';

const corpus: Record<string, string> = {
  bread:
    'How to bake sourdough bread: mix flour, water and salt, knead the dough and bake the loaf in a hot oven.',
  stars: 'Astronomers observe distant galaxies and stars with large telescopes.',
  football: 'The football team scored two goals and won the match in a full stadium.',
  music: 'The orchestra played a symphony; violins filled the concert hall with music.',
};

describe.runIf(hasModel(RANDOM_MODEL) && hasModel(STATIC_MODEL))(
  'blue/green: a second model builds its index beside the first',
  () => {
    let db: TestDatabase;
    let nc: NatsConnection;
    let config: Config;
    let app: RunningApp;
    const A = RANDOM_MODEL;
    const B = STATIC_MODEL;
    const api = () =>
      client((app.roles.find((r) => r.name === 'api') as unknown as { address: string }).address);
    const statsOf = (i: number) =>
      (
        app.roles.find((r) => r.name === 'embedder') as unknown as {
          handlers: ReturnType<typeof embedderHandler>[];
        }
      ).handlers[i]!.stats;
    const searchModel = async (query = 'baking a loaf of bread in the oven') => {
      const r = await api().post('/v1/search', { query, mode: 'vector', collection: 'kb', k: 2 });
      expect(r.status).toBe(200);
      return { model: r.json.model as string, top: r.json.results[0]?.documentId as string };
    };

    beforeAll(async () => {
      db = await createTestDatabase();
      config = pipelineConfig(db.url, {
        models: [A, B],
        roles: ['api', 'chunker', 'embedder', 'indexer', 'projector'],
        httpPort: 0,
        auth: 'off',
        defaultTenant: 'acme',
      });
      app = await startApp(config, createLogger({ level: 'silent' }), { handleSignals: false });
      nc = await connect({ servers: config.natsUrl });
      for (const [id, text] of Object.entries(corpus)) {
        const e = {
          specversion: '1.0',
          id: `e-${id}`,
          source: 'urn:test',
          type: 'sluice.document.upserted.v1',
          data: { tenant: 'acme', collection: 'kb', documentId: id, text },
        };
        expect((await api().post('/v1/events', e)).status).toBe(202);
      }
      await until(
        async () => {
          const [a, b] = [
            await coverage(db.sql, 'acme', 'kb', A),
            await coverage(db.sql, 'acme', 'kb', B),
          ];
          return a.documents === 4 && a.indexed === 4 && b.indexed === 4;
        },
        120_000,
        'both models cover the collection',
      );
    }, 180_000);
    afterAll(async () => {
      await app?.stop();
      await deleteNamespace(nc, config.namespace);
      await nc?.close();
      await db?.drop();
    });

    it('serves A until B is activated, then B, and rolls back to A', async () => {
      expect((await searchModel()).model).toMatch(new RegExp(`^${A}@`));
      await activateModel(db.sql, 'acme', 'kb', B);
      await new Promise((r) => setTimeout(r, 2_100)); // the API remembers an activation for 2 s
      const b = await searchModel();
      expect(b.model).toMatch(new RegExp(`^${B}@`));
      expect(b.top).toBe('bread'); // B's vectors carry meaning
      await activateModel(db.sql, 'acme', 'kb', A);
      await new Promise((r) => setTimeout(r, 2_100));
      expect((await searchModel()).model).toMatch(new RegExp(`^${A}@`));
      const [row] =
        await db.sql`SELECT active_model, previous_model FROM collection_models WHERE tenant = 'acme' AND collection = 'kb'`;
      expect(row).toEqual({ active_model: A, previous_model: B });
    });

    it('never mixes two models in one answer', async () => {
      for (const mode of ['vector', 'keyword', 'hybrid']) {
        const r = await api().post('/v1/search', {
          query: 'music symphony',
          mode,
          collection: 'kb',
          k: 10,
        });
        const ids = r.json.results.map(
          (h: { documentId: string; chunkIndex: number }) => `${h.documentId}#${h.chunkIndex}`,
        );
        expect(new Set(ids).size).toBe(ids.length); // one row per chunk: a single model's rows
      }
    });

    it('refuses to activate a model whose index lags, unless forced', async () => {
      await db.sql`DELETE FROM index_documents WHERE model_id LIKE ${`${B}@%`} AND document_id = 'music'`;
      await expect(activateModel(db.sql, 'acme', 'kb', B)).rejects.toMatchObject({
        code: 'MODEL_NOT_READY',
      });
      await expect(activateModel(db.sql, 'acme', 'kb', B, true)).resolves.toMatchObject({
        indexed: 3,
        documents: 4,
      });
      await activateModel(db.sql, 'acme', 'kb', A);
    });

    it("does not embed again a chunk that already has the model's vector", async () => {
      // B's embedder forgets its position and reads every chunk event again.
      await app.stop();
      const jsm = await jetstreamManager(nc);
      await jsm.consumers.delete(streamName(config.namespace, 'chunks'), durables.embedder(B));
      await jsm.consumers.delete(
        streamName(config.namespace, 'retry'),
        retryDurable(durables.embedder(B)),
      );
      app = await startApp(config, createLogger({ level: 'silent' }), { handleSignals: false });
      await until(async () => {
        const i = await jsm.consumers.info(
          streamName(config.namespace, 'chunks'),
          durables.embedder(B),
        );
        return i.delivered.stream_seq > 0 && i.num_pending === 0 && i.num_ack_pending === 0;
      });
      expect(statsOf(1).computed).toBe(0);
      expect(statsOf(1).hits).toBeGreaterThanOrEqual(4);
    });

    it('shows status and retires a model from the CLI', async () => {
      const env = {
        NATS_URL: config.natsUrl.join(','),
        DATABASE_URL: db.url,
        SLUICE_NAMESPACE: config.namespace,
        SLUICE_MODELS: `${A},${B}`,
        SLUICE_MODELS_DIR: testModelsDir(),
      };
      const status = await runCli(['models', 'status', '--json'], env);
      expect(status.code, status.stderr).toBe(0);
      const report = JSON.parse(status.stdout) as {
        model: string;
        indexedDocuments: number;
        activeFor: string[];
      }[];
      expect(report.find((m) => m.model === A)).toMatchObject({ activeFor: ['acme/kb'] });
      expect(report.find((m) => m.model === B)!.indexedDocuments).toBeGreaterThanOrEqual(3);

      expect((await runCli(['models', 'retire', A], env)).stderr).toMatch(/active for acme\/kb/);
      await activateModel(db.sql, 'acme', 'kb', B, true);
      await app.stop(); // A's embedder must not rebuild what we drop
      const retired = await runCli(['models', 'retire', A], { ...env, SLUICE_MODELS: B });
      expect(retired.code, retired.stderr).toBe(0);
      const [left] = await db.sql<
        { n: number }[]
      >`SELECT count(*)::int AS n FROM index_chunks WHERE model_id LIKE ${`${A}@%`}`;
      expect(left!.n).toBe(0);
      const [postings] = await db.sql<{ n: number }[]>`
        SELECT count(*)::int AS n FROM keyword_postings
        WHERE scope IN (SELECT scope FROM keyword_scopes WHERE model_id LIKE ${`${A}@%`})`;
      const [scopes] = await db.sql<{ n: number; other: number }[]>`
        SELECT count(*) FILTER (WHERE model_id LIKE ${`${A}@%`})::int AS n,
               count(*) FILTER (WHERE model_id LIKE ${`${B}@%`})::int AS other FROM keyword_scopes`;
      expect({ postings: postings!.n, scopes: scopes!.n }).toEqual({ postings: 0, scopes: 0 });
      expect(scopes!.other).toBeGreaterThan(0); // the other model's keyword index stays
      app = await startApp({ ...config, models: [B] }, createLogger({ level: 'silent' }), {
        handleSignals: false,
      });
    });
  },
);
