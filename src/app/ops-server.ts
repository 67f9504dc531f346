import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { registerOpsRoutes, type Check } from '../api/routes/ops.js';
import { listen } from '../api/listen.js';
import type { Logger } from '../logger.js';
import type { AppContext } from './context.js';

/** Whether this process's consumers work or wait for a dependency (the breakers). */
export function pipelineCheck(ctx: Pick<AppContext, 'breakers'>): Check {
  return () => {
    const open = ctx.breakers.open();
    return open.length > 0
      ? Promise.reject(
          new Error(
            `consumers paused: ${open.map((b) => `${b.dependency} unavailable since ${b.since}`).join('; ')}`,
          ),
        )
      : Promise.resolve();
  };
}

/**
 * A server with only /healthz, /readyz and /metrics, on SLUICE_OPS_PORT: what liveness
 * and readiness probes and a Prometheus scrape reach in every process, the ones that
 * run no api role included.
 */
export async function startOpsServer(
  ctx: AppContext,
  logger: Logger,
  port: number,
): Promise<{ address: string; app: FastifyInstance }> {
  const log: FastifyBaseLogger = logger.child({ module: 'ops' });
  const app = Fastify({
    loggerInstance: log,
    logController: new LogController({ disableRequestLogging: true }),
  });
  registerOpsRoutes(app, {
    nats: () => ctx.nc.flush(),
    postgres: () => ctx.database.sql`SELECT 1`,
    pipeline: pipelineCheck(ctx),
  });
  const address = await listen(app, ctx.config.httpHost, port);
  logger.info({ address }, 'ops server listening');
  return { address, app };
}
