import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from '../logger.js';
import type { RoleContext } from '../runtime/index.js';
import { listen } from './listen.js';
import { pipelineCheck } from './pipeline-check.js';
import { registerOpsRoutes } from './routes.js';

/**
 * A server with only /healthz, /readyz and /metrics, on SLUICE_OPS_PORT: what liveness
 * and readiness probes and a Prometheus scrape reach in every process, the ones that
 * run no api role included.
 */
export async function startOpsServer(
  ctx: Pick<RoleContext, 'nc' | 'database' | 'breakers'>,
  logger: Logger,
  host: string,
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
  const address = await listen(app, host, port);
  logger.info({ address }, 'ops server listening');
  return { address, app };
}
