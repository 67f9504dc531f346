import type { NatsConnection } from '@nats-io/transport-node';
import type { Config } from '../config/index.js';
import {
  createDatabase,
  dbUnavailable,
  isTransientDbError,
  runMigrations,
  type Database,
} from '../db/index.js';
import { Breakers } from '../runtime/breakers.js';
import type { Logger } from '../logger.js';
import { connectNats } from '../nats/index.js';

/** What every role shares in one process: configuration, the root logger and the connections. */
export interface AppContext {
  config: Config;
  logger: Logger;
  nc: NatsConnection;
  database: Database;
  /** Circuit breakers every consumer of the process shares (see Breakers). */
  breakers: Breakers;
}

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
  const breakers = new Breakers(
    {
      nats: () => nc.flush(),
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
