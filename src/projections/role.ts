import type { RoleContext, RoleHandle } from '../runtime/index.js';
import type { DurableConsumer } from '../runtime/index.js';
import { runtimeDeps } from '../runtime/index.js';
import { PipelinePublisher } from '../runtime/index.js';
import { Subjects, durables } from '../topology/index.js';
import { CollectionsStore } from './collections/store.js';
import { DocumentsStore } from './documents/store.js';
import {
  collectionsSources,
  documentsSources,
  projectionConsumer,
  type ProjectionSource,
} from './projector.js';
import type { Config } from '../config/index.js';
import type { RuntimeSettings } from '../runtime/index.js';

/** The settings the projector role reads (app/start.ts passes them from Config). */
export type ProjectorSettings = RuntimeSettings & Pick<Config, 'namespace'>;

/**
 * The projector role: the documents and collections read models, each fed by its own
 * durable on the event log and on the status stream.
 */
export async function startProjectorRole(
  ctx: RoleContext,
  config: ProjectorSettings,
): Promise<RoleHandle> {
  const { nc } = ctx;
  const logger = ctx.logger.child({ module: 'projector' });
  const subjects = new Subjects(config.namespace);
  const publisher = new PipelinePublisher({ nc, source: 'urn:sluice:projector' });
  const deps = runtimeDeps(config, nc, logger, publisher, ctx.breakers);
  const consumers: DurableConsumer[] = [];
  const add = <I>(
    projection: 'documents' | 'collections',
    sources: ProjectionSource<I>[],
  ): void => {
    for (const source of sources)
      consumers.push(
        projectionConsumer(
          source,
          durables.projection(projection, source.stream),
          config.namespace,
          deps,
        ),
      );
  };
  add('documents', documentsSources(subjects, new DocumentsStore(ctx.database.sql)));
  add('collections', collectionsSources(subjects, new CollectionsStore(ctx.database.sql)));
  for (const c of consumers) await c.start();
  return {
    name: 'projector',
    stop: async () => {
      for (const c of consumers) await c.stop();
    },
  };
}
