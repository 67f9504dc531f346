import type { RoleContext, RoleHandle } from '../../runtime/index.js';
import { Subjects, durables } from '../../topology/index.js';
import { DurableConsumer } from '../../runtime/index.js';
import { runtimeDeps } from '../../runtime/index.js';
import { reportFailedStage } from '../../runtime/index.js';
import { PipelinePublisher } from '../../runtime/index.js';
import { indexerHandler } from './indexer-handler.js';
import { VectorIndex } from './store.js';
import type { Config } from '../../config/index.js';
import type { RuntimeSettings } from '../../runtime/index.js';

/** The settings the indexer role reads (app/start.ts passes them from Config). */
export type IndexerSettings = RuntimeSettings & Pick<Config, 'namespace'>;

/** The indexer role: vectors into pgvector. */
export async function startIndexerRole(
  ctx: RoleContext,
  config: IndexerSettings,
): Promise<RoleHandle> {
  const { nc } = ctx;
  const logger = ctx.logger.child({ module: 'indexer' });
  const subjects = new Subjects(config.namespace);
  const publisher = new PipelinePublisher({ nc, source: 'urn:sluice:indexer' });
  const consumer = new DurableConsumer(
    {
      durable: durables.indexer,
      stream: 'vectors',
      batchSize: 64,
      batchWaitMs: 20,
      handler: indexerHandler({ subjects, publisher, index: new VectorIndex(ctx.database.sql) }),
      onDeadLetter: reportFailedStage(publisher, subjects, durables.indexer),
    },
    runtimeDeps(config, nc, logger, publisher, ctx.breakers),
  );
  await consumer.start();
  return { name: 'indexer', stop: () => consumer.stop() };
}
