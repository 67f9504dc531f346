import { jetstreamManager } from '@nats-io/jetstream';
import { startApiRole } from '../api/index.js';
import { startChunkerRole } from '../consumers/chunker/index.js';
import { startEmbedderRole } from '../consumers/embedder/index.js';
import { startParserRole } from '../consumers/parser/index.js';
import { startIndexerRole } from '../consumers/indexer/index.js';
import { startOutputRole } from '../output/index.js';
import { startProjectorRole } from '../projections/index.js';
import type { Config, Role } from '../config/index.js';
import { describeConfig } from '../config/index.js';
import type { Logger } from '../logger.js';
import { labelProcess } from '../metrics.js';
import { whileNatsRecovers } from '../nats/index.js';
import { applyTopology, declareTopology } from '../topology/index.js';
import { closeContext, openContext, type AppContext } from './context.js';
import { processId, startHeartbeat, startOpsServer } from '../ops/index.js';
import type { RoleHandle } from '../runtime/index.js';

export interface RunningApp {
  ctx: AppContext;
  roles: RoleHandle[];
  /** Address of the ops server (SLUICE_OPS_PORT), when it runs. */
  opsAddress?: string;
  /** Resolves once the process has drained and closed after a stop signal or stop(). */
  stopped: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the roles named in config.roles in this process. Roles share the connections
 * but talk to each other only through JetStream subjects, so any of them can run alone
 * in its own process (`--roles <role>`) without a code change.
 */
export async function startApp(
  config: Config,
  logger: Logger,
  options: { handleSignals?: boolean } = {},
): Promise<RunningApp> {
  logger.info({ config: describeConfig(config) }, 'starting sluice');
  labelProcess(config.roles);
  const ctx = await openContext(config, logger);
  const roles: RoleHandle[] = [];
  let heartbeat: { stop(): Promise<void> } | undefined;
  let ops: Awaited<ReturnType<typeof startOpsServer>> | undefined;
  try {
    // First, so that a liveness probe finds the process up while it starts.
    if (config.opsPort !== null)
      ops = await startOpsServer(ctx, logger, config.httpHost, config.opsPort);
    // A cluster that is electing a leader (a node just came back) answers late: wait.
    await whileNatsRecovers(
      async () =>
        applyTopology(
          await jetstreamManager(ctx.nc),
          ctx.nc,
          declareTopology(config),
          logger.child({ module: 'topology' }),
        ),
      {
        onRetry: (err) =>
          logger.warn({ err }, 'NATS does not answer JetStream requests yet; retrying'),
      },
    );
    // Each role gets the settings it reads (its XSettings type), one line each.
    const starters: Record<Role, (ctx: AppContext) => Promise<RoleHandle>> = {
      api: (c) => startApiRole(c, config),
      parser: (c) => startParserRole(c, config),
      chunker: (c) => startChunkerRole(c, config),
      embedder: (c) => startEmbedderRole(c, config),
      indexer: (c) => startIndexerRole(c, config),
      projector: (c) => startProjectorRole(c, config),
      output: (c) => startOutputRole(c, config),
    };
    for (const role of config.roles) {
      const start = starters[role];
      if (start) roles.push(await start(ctx));
    }
    const id = processId(); // one entry, however many tries the first beat takes
    heartbeat = await whileNatsRecovers(() =>
      startHeartbeat({
        id,
        nc: ctx.nc,
        namespace: config.namespace,
        roles: config.roles,
        breakers: ctx.breakers,
        replicas: config.streamReplicas,
        logger: logger.child({ module: 'heartbeat' }),
      }),
    );
  } catch (err) {
    for (const r of roles.reverse()) await r.stop().catch(() => {});
    await ops?.app.close();
    await closeContext(ctx);
    throw err;
  }

  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => (resolveStopped = r));
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      logger.info('stopping sluice: draining roles');
      await heartbeat?.stop();
      // Stop in reverse: the API stops taking work before the consumers drain.
      for (const r of [...roles].reverse()) {
        await r
          .stop()
          .catch((err: unknown) =>
            logger.error({ err, role: r.name }, 'role did not stop cleanly'),
          );
      }
      await ops?.app.close();
      await closeContext(ctx);
      logger.info('stopped');
      resolveStopped();
    })());
  if (options.handleSignals !== false) {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void stop());
  }
  logger.info({ roles: config.roles }, 'sluice started');
  return { ctx, roles, stopped, stop, ...(ops ? { opsAddress: ops.address } : {}) };
}
