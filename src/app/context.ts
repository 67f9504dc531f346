import type { Config } from '../config/index.js';
import { createDatabase, dbUnavailable, isTransientDbError, runMigrations } from '../db/index.js';
import { Breakers, PublishReach, attachPublishReach, streamOfSubject } from '../runtime/index.js';
import type { RoleContext } from '../runtime/index.js';
import type { Logger } from '../logger.js';
import { connectNats } from '../nats/index.js';

/** The roles' shared context (runtime/role.ts), as this module opens and closes it. */
export type AppContext = RoleContext;

/** Connects to NATS and PostgreSQL and applies migrations. */
export async function openContext(
  config: Config,
  logger: Logger,
  name = 'sluice',
): Promise<AppContext> {
  const nc = await connectNats({
    servers: config.natsUrl,
    name,
    logger: logger.child({ module: 'nats' }),
  });
  const database = createDatabase({
    url: config.databaseUrl,
    applicationName: name,
    statementTimeoutMs: config.dbStatementTimeout,
  });
  try {
    await runMigrations(database);
  } catch (err) {
    await nc.close();
    await database.close();
    throw isTransientDbError(err) ? dbUnavailable(err, config.databaseUrl) : err;
  }
  const reach = new PublishReach({
    deadlineMs: config.publishDeadline,
    streamOf: (subject) => streamOfSubject(config.namespace, subject),
  });
  attachPublishReach(nc, reach);
  const breakers = new Breakers(
    {
      // flush() answers while a stream's only node is down: the streams a publish gave up
      // on must have a leader again too.
      nats: async () => {
        await nc.flush();
        await reach.check(nc);
      },
      postgres: () => database.sql`SELECT 1`,
    },
    logger.child({ module: 'breakers' }),
  );
  return { config, logger, nc, database, breakers };
}

export async function closeContext(ctx: AppContext): Promise<void> {
  ctx.breakers.close();
  await ctx.nc.drain().catch(() => ctx.nc.close());
  await ctx.database.close();
}
