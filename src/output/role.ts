import type { RoleContext, RoleHandle } from '../runtime/index.js';
import { documentsSources, projectionConsumer } from '../projections/index.js';
import { runtimeDeps } from '../runtime/index.js';
import { PipelinePublisher } from '../runtime/index.js';
import { Subjects, durables } from '../topology/index.js';
import { Announcer } from './announce.js';
import { Dispatcher } from './dispatcher.js';
import { startRetention } from './retention.js';
import { WebhookAllowlist } from './ssrf.js';
import type { Config } from '../config/index.js';
import type { RuntimeSettings } from '../runtime/index.js';

/** The settings the output role reads (app/start.ts passes them from Config). */
export type OutputSettings = RuntimeSettings &
  Pick<
    Config,
    | 'namespace'
    | 'webhookAllow'
    | 'webhookBackoff'
    | 'webhookConcurrency'
    | 'webhookEndpointConcurrency'
    | 'webhookMaxAttempts'
    | 'webhookRetention'
    | 'webhookTenantConcurrency'
    | 'webhookTimeout'
  >;

/**
 * The output role: webhooks. Durable consumers of the events and status streams turn
 * what happens to documents into deliveries (one table write per batch, so indexing
 * never waits on an endpoint), and a dispatcher sends them, retrying for hours.
 * Scales out with `--roles output`: consumers share their durables, dispatchers claim
 * deliveries with leases.
 */
export async function startOutputRole(
  ctx: RoleContext,
  config: OutputSettings,
): Promise<RoleHandle & { dispatcher: Dispatcher }> {
  const { nc } = ctx;
  const logger = ctx.logger.child({ module: 'output' });
  const subjects = new Subjects(config.namespace);
  const publisher = new PipelinePublisher({ nc, source: 'urn:sluice:output' });
  const deps = runtimeDeps(config, nc, logger, publisher, ctx.breakers);
  const announcer = new Announcer(ctx.database.sql);
  const consumers = documentsSources(subjects, announcer).map((source) =>
    projectionConsumer(source, durables.output(source.stream), config.namespace, deps),
  );
  const dispatcher = new Dispatcher({
    sql: ctx.database.sql,
    logger,
    allow: new WebhookAllowlist(config.webhookAllow),
    timeoutMs: config.webhookTimeout,
    maxAttempts: config.webhookMaxAttempts,
    backoffMs: config.webhookBackoff,
    perEndpoint: config.webhookEndpointConcurrency,
    perTenant: config.webhookTenantConcurrency,
    concurrency: config.webhookConcurrency,
    breakers: ctx.breakers,
  });
  await dispatcher.start();
  const retention = startRetention({
    sql: ctx.database.sql,
    logger,
    retentionMs: config.webhookRetention,
  });
  for (const c of consumers) await c.start();
  logger.info('output started');
  return {
    name: 'output',
    dispatcher,
    stop: async () => {
      for (const c of consumers) await c.stop();
      await retention.stop();
      await dispatcher.stop();
    },
  };
}
