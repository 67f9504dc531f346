import type { RoleContext, RoleHandle } from '../../runtime/index.js';
import { Embedder, ensureModel } from '../../models/index.js';
import { Subjects, durables } from '../../topology/index.js';
import { DurableConsumer } from '../../runtime/index.js';
import { runtimeDeps } from '../../runtime/index.js';
import { reportFailedStage } from '../../runtime/index.js';
import { PipelinePublisher } from '../../runtime/index.js';
import { EmbeddingCache } from './cache.js';
import { embedderHandler } from './embedder-handler.js';
import type { Config } from '../../config/index.js';
import type { RuntimeSettings } from '../../runtime/index.js';

/** The settings the embedder role reads (app/start.ts passes them from Config). */
export type EmbedderSettings = RuntimeSettings &
  Pick<
    Config,
    | 'allowRemoteModels'
    | 'embedBatchSize'
    | 'embedBatchWait'
    | 'embedProvider'
    | 'embedThreads'
    | 'modelDtype'
    | 'models'
    | 'modelsDir'
    | 'namespace'
  >;

/** The embedder role: one consumer (and one onnxruntime session) per configured model. */
export async function startEmbedderRole(
  ctx: RoleContext,
  config: EmbedderSettings,
): Promise<RoleHandle & { handlers: ReturnType<typeof embedderHandler>[]; embedders: Embedder[] }> {
  const { nc } = ctx;
  const logger = ctx.logger.child({ module: 'embedder' });
  const subjects = new Subjects(config.namespace);
  const publisher = new PipelinePublisher({ nc, source: 'urn:sluice:embedder' });
  const consumers: DurableConsumer[] = [];
  const embedders: Embedder[] = [];
  const handlers: ReturnType<typeof embedderHandler>[] = [];
  for (const name of config.models) {
    const spec = await ensureModel(
      config.modelsDir,
      name,
      config.modelDtype,
      config.allowRemoteModels,
    );
    const embedder = await Embedder.load(spec, {
      provider: config.embedProvider,
      threads: config.embedThreads,
      batchSize: config.embedBatchSize,
      // Throughput beside the other stages, not one query's latency (see InferenceOptions).
      spin: false,
      logger,
    });
    embedders.push(embedder);
    const handler = embedderHandler({
      subjects,
      publisher,
      embedder,
      cache: new EmbeddingCache(ctx.database.sql, spec.id),
      logger,
    });
    handlers.push(handler);
    const durable = durables.embedder(name);
    consumers.push(
      new DurableConsumer(
        {
          durable,
          stream: 'chunks',
          handler,
          // Chunk events taken together; their chunks are deduplicated, looked up in the
          // cache, sorted by length and embedded SLUICE_EMBED_BATCH at a time.
          batchSize: 128,

          batchWaitMs: config.embedBatchWait,
          // Two batches at once: one is computed while the other is cached and published.
          concurrency: 2,
          onDeadLetter: reportFailedStage(publisher, subjects, durable),
        },
        runtimeDeps(config, nc, logger, publisher, ctx.breakers),
      ),
    );
  }
  // The model "answers" when every worker runs, or starts again.
  ctx.breakers.setProbe('model', () => Promise.all(embedders.map((e) => e.ensureRunning())));
  for (const c of consumers) await c.start();
  return {
    name: 'embedder',
    handlers,
    embedders,
    stop: async () => {
      for (const c of consumers) await c.stop();
      for (const e of embedders) await e.close();
    },
  };
}
