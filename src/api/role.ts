import type { AppContext } from '../app/context.js';
import type { RoleHandle } from '../app/role.js';
import { Producer } from '../producers/index.js';
import { buildApp } from './app.js';
import { listen } from './listen.js';

/** The api role: the HTTP API on SLUICE_HTTP_HOST:SLUICE_HTTP_PORT. */
export async function startApiRole(ctx: AppContext): Promise<RoleHandle & { address: string }> {
  const { config, logger, nc } = ctx;
  const producer = new Producer({
    nc,
    namespace: config.namespace,
    logger: logger.child({ module: 'producer' }),
    claimCheckBytes: config.claimCheckBytes,
    maxMessageBytes: config.maxMessageBytes,
    maxDocumentBytes: config.maxDocumentBytes,
    source: 'urn:sluice:http',
  });
  const app = await buildApp({ logger, bodyLimit: config.httpBodyLimit, ingest: { producer } });
  const address = await listen(app, config.httpHost, config.httpPort);
  logger.info({ address }, 'api listening');
  return { name: 'api', address, stop: () => app.close() };
}
