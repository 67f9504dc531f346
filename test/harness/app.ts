import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startApp, type RunningApp } from '../../src/app/start.js';
import type { Config } from '../../src/config/index.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { deleteNamespace } from '../../src/topology/index.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { client } from './http.js';
import { pipelineConfig } from './pipeline.js';

/** Sluice running in the test's process, on a database and a namespace of its own. */
export interface TestApp {
  db: TestDatabase;
  config: Config;
  app: RunningApp;
  /** The api role's address, when it runs. */
  address: string;
  /** A connection of the test's own. */
  nc: NatsConnection;
  /** An HTTP client of the API, with a key or without. */
  api: (key?: string) => ReturnType<typeof client>;
  /** Stops Sluice, deletes the namespace and drops the database. */
  stop: () => Promise<void>;
}

/** Starts the given roles (pipelineConfig's defaults otherwise) with a silent logger unless given one. */
export async function startTestApp(
  overrides: Partial<Config> = {},
  logger: Logger = createLogger({ level: 'silent' }),
): Promise<TestApp> {
  const db = await createTestDatabase();
  const config = pipelineConfig(db.url, { httpPort: 0, ...overrides });
  const app = await startApp(config, logger, { handleSignals: false });
  const api = app.roles.find((r) => r.name === 'api') as unknown as { address: string } | undefined;
  const nc = await connect({ servers: config.natsUrl });
  const address = api?.address ?? '';
  return {
    db,
    config,
    app,
    address,
    nc,
    api: (key) => client(address, key),
    stop: async () => {
      await app.stop();
      await deleteNamespace(nc, config.namespace);
      await nc.close();
      await db.drop();
    },
  };
}
