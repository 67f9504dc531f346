import type { Config } from '../config/index.js';
import { describeConfig } from '../config/index.js';
import type { Logger } from '../logger.js';
import { closeContext, openContext } from './context.js';

export interface RunningApp {
  /** Resolves once the process has drained and closed after a stop signal or stop(). */
  stopped: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the roles named in config.roles in this process. Roles share the connections
 * but talk to each other only through JetStream subjects.
 */
export async function startApp(config: Config, logger: Logger): Promise<RunningApp> {
  logger.info({ config: describeConfig(config) }, 'starting sluice');
  const ctx = await openContext(config, logger);
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => (resolveStopped = r));
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      logger.info('stopping sluice');
      await closeContext(ctx);
      logger.info('stopped');
      resolveStopped();
    })());
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void stop());
  logger.info({ roles: config.roles }, 'sluice started');
  return { stopped, stop };
}
