import { jetstreamManager } from '@nats-io/jetstream';
import type { RoleContext, RoleHandle } from '../runtime/index.js';
import { DeadLetters } from '../dead-letters/index.js';
import { PipelinePublisher } from '../runtime/index.js';
import { createDatabase } from '../db/index.js';
import { consumerAckPending, consumerPending, deadLetters } from '../metrics.js';
import { Embedder, ensureModel } from '../models/index.js';
import { Producer } from '../producers/index.js';
import { DocumentWaiters } from '../projections/index.js';
import { Replayer, type ReplaySettings } from '../replay/index.js';
import { declareTopology } from '../topology/index.js';
import { buildApp } from './app.js';
import { KeyVerifier } from './keys.js';
import type { DeclaredRoute } from './auth.js';
import { WebhookAllowlist } from '../output/index.js';
import { RedriveJobs } from './redrive-jobs.js';
import { refreshAtMostEvery } from './refresh-cache.js';
import { MetricsHistory } from './metrics-history.js';
import { PipelineStatusReader } from '../pipeline-status/index.js';
import { listen, pipelineCheck } from '../ops/index.js';
import { KeywordMemory, SelfCalibrator } from '../consumers/indexer/index.js';
import { searchConnections, type Config } from '../config/index.js';
import type { TopologySettings } from '../topology/index.js';

/** The settings the api role reads (app/start.ts passes them from Config). */
export type ApiSettings = ReplaySettings &
  TopologySettings &
  Pick<
    Config,
    | 'allowRemoteModels'
    | 'auth'
    | 'authFailures'
    | 'claimCheckBytes'
    | 'databaseUrl'
    | 'defaultTenant'
    | 'embedProvider'
    | 'embedThreads'
    | 'fileMaxBytes'
    | 'httpBodyLimit'
    | 'httpHost'
    | 'httpPort'
    | 'ingestMaxEvents'
    | 'keywordDepth'
    | 'keywordMemory'
    | 'maxDocumentBytes'
    | 'maxMessageBytes'
    | 'modelDtype'
    | 'models'
    | 'modelsDir'
    | 'namespace'
    | 'rateLimit'
    | 'searchEf'
    | 'searchConnections'
    | 'searchEmbedTimeout'
    | 'searchQueue'
    | 'statementTimeout'
    | 'trustProxy'
    | 'webhookAllow'
    | 'webhookMaxSubscriptions'
    | 'webhookSecretOverlap'
  >;

/** Longest /metrics serves JetStream figures without asking JetStream again. */
const METRICS_REFRESH_MS = 5_000;

/** The api role: the HTTP API on SLUICE_HTTP_HOST:SLUICE_HTTP_PORT. */
export async function startApiRole(
  ctx: RoleContext,
  config: ApiSettings,
): Promise<RoleHandle & { address: string; waiters: DocumentWaiters; routes: DeclaredRoute[] }> {
  const { logger, nc } = ctx;
  const log = logger.child({ module: 'api' });
  const producer = new Producer({
    nc,
    namespace: config.namespace,
    logger: logger.child({ module: 'producer' }),
    claimCheckBytes: config.claimCheckBytes,
    maxMessageBytes: config.maxMessageBytes,
    maxDocumentBytes: config.maxDocumentBytes,
    maxFileBytes: config.fileMaxBytes,
    source: 'urn:sluice:http',
  });
  // Queries get a pool of their own, with the HNSW search settings on every connection.
  // A small one: more connections than cores made PostgreSQL's own work per search grow
  // (docs/search.md, "Connections to PostgreSQL"). Never more than postgres.js's 10.
  const searchSettings = {
    'hnsw.ef_search': String(config.searchEf),
    'hnsw.iterative_scan': 'relaxed_order',
    // A query a caller starts stops in PostgreSQL too, not only in the client.
    statement_timeout: String(config.statementTimeout),
  };
  const queries = createDatabase({
    url: config.databaseUrl,
    applicationName: 'sluice-api',
    max: searchConnections(config.searchConnections),
    settings: searchSettings,
  });
  // Self-calibration searches in the background on a connection of its own: it never
  // holds one of the few that callers' searches wait for.
  const calibration = createDatabase({
    url: config.databaseUrl,
    applicationName: 'sluice-api-calibration',
    max: 1,
    settings: searchSettings,
  });
  // Queries are embedded by workers of their own, so indexing never delays a search.
  const models = new Map<string, Embedder>();
  for (const name of config.models) {
    const spec = await ensureModel(
      config.modelsDir,
      name,
      config.modelDtype,
      config.allowRemoteModels,
    );
    models.set(
      name,
      await Embedder.load(spec, {
        provider: config.embedProvider,
        threads: config.embedThreads,
        batchSize: 1,
        logger: log,
      }),
    );
  }
  // Hybrid's fusion weight, chosen per collection and model on queries made from its text.
  const calibrator = new SelfCalibrator({
    sql: calibration.sql,
    embedders: new Map(
      [...models.values()].map((e) => [e.spec.id, (t: string[]) => e.embed(t, { truncate: true })]),
    ),
    logger: logger.child({ module: 'self-calibration' }),
  });
  calibrator.start();
  const jsm = await jetstreamManager(nc);
  const letters = new DeadLetters(
    nc,
    config.namespace,
    new PipelinePublisher({ nc, source: 'urn:sluice:api' }),
  );
  const jobs = new RedriveJobs(ctx.database.sql, letters, log);
  // Read-your-writes: one LISTEN connection wakes every request waiting for a version.
  const waiters = new DocumentWaiters(queries.sql, log);
  await waiters.start();
  const declared = declareTopology(config);
  const reader = new PipelineStatusReader(nc, jsm, config, letters);
  const history = new MetricsHistory({ reader, logger: log });
  history.start();
  const app = await buildApp({
    pipeline: { reader, history },
    eventLog: { nc, namespace: config.namespace },
    logger,
    bodyLimit: config.httpBodyLimit,
    fileMaxBytes: config.fileMaxBytes,
    rateLimit: config.rateLimit,
    trustProxy: config.trustProxy,
    auth:
      config.auth === 'off'
        ? { mode: 'off', tenant: config.defaultTenant }
        : {
            mode: 'keys',
            verifier: new KeyVerifier(ctx.database.sql),
            failuresPerMinute: config.authFailures,
          },
    ingest: { producer, maxEvents: config.ingestMaxEvents },
    queries: {
      sql: queries.sql,
      models,
      defaultModel: config.models[0]!,
      keywordDepth: config.keywordDepth,
      keywordMemory: new KeywordMemory(config.keywordMemory),
      calibrator,
      queryEmbedding: { maxPending: config.searchQueue, timeoutMs: config.searchEmbedTimeout },
      waiters,
    },
    letters: { letters, jobs },
    webhooks: {
      sql: ctx.database.sql,
      allow: new WebhookAllowlist(config.webhookAllow),
      maxSubscriptions: config.webhookMaxSubscriptions,
      secretOverlapMs: config.webhookSecretOverlap,
    },
    replayer: new Replayer({ nc, sql: ctx.database.sql, config, logger }),
    checks: {
      nats: () => jsm.getAccountInfo(),
      postgres: () => queries.sql`SELECT 1`,
      // Whether the consumers of this process work or wait for a dependency.
      pipeline: pipelineCheck(ctx),
      // Whether each model's worker runs, asked without queueing behind searches.
      models: () => {
        const down = [...models.values()].filter((m) => !m.alive).map((m) => m.spec.id);
        return down.length > 0
          ? Promise.reject(new Error(`embedding worker not running: ${down.join(', ')}`))
          : Promise.resolve();
      },
    },
    // Anonymous: JetStream is asked at most every 5 s, however often /metrics is scraped.
    beforeScrape: refreshAtMostEvery(METRICS_REFRESH_MS, async () => {
      await Promise.all(
        declared.consumers.map(async (c) => {
          const info = await jsm.consumers.info(c.stream, c.config.durable_name);
          consumerPending.set({ durable: c.config.durable_name }, info.num_pending);
          consumerAckPending.set({ durable: c.config.durable_name }, info.num_ack_pending);
        }),
      );
      deadLetters.reset();
      for (const [consumer, n] of Object.entries(await letters.depth()))
        deadLetters.set({ consumer }, n);
    }),
  });
  if (config.auth === 'off')
    log.warn(
      'SLUICE_AUTH=off: every caller is an operator, acting for tenant %s',
      config.defaultTenant,
    );
  const address = await listen(app, config.httpHost, config.httpPort);
  log.info({ address }, 'api listening');
  return {
    name: 'api',
    address,
    waiters,
    routes: app.routeTable,
    stop: async () => {
      await history.stop();
      await calibrator.stop();
      await waiters.close();
      await app.close();
      await jobs.close();
      for (const m of models.values()) await m.close();
      await queries.close();
      // After the app: a calibration a request started may still be running until then.
      await calibration.close();
    },
  };
}
