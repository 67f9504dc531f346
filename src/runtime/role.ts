import type { NatsConnection } from '@nats-io/transport-node';
import type { Config } from '../config/index.js';
import type { Database } from '../db/index.js';
import type { Logger } from '../logger.js';
import type { Breakers } from './breakers.js';

/**
 * What every role shares in one process: configuration, the root logger and the
 * connections. `app/` opens it and starts the roles with it; the roles only use it.
 */
export interface RoleContext {
  config: Config;
  logger: Logger;
  nc: NatsConnection;
  database: Database;
  /** Circuit breakers every consumer of the process shares (see Breakers). */
  breakers: Breakers;
}

/** A running role: stops by draining its work. */
export interface RoleHandle {
  name: string;
  stop(): Promise<void>;
}

export type RoleStarter = (ctx: RoleContext) => Promise<RoleHandle>;
