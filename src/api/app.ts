import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from '../logger.js';
import { registerIngestRoute, type IngestRouteOptions } from '../producers/http/ingest-route.js';
import { installErrorHandling } from './errors.js';

export interface ApiDeps {
  logger: Logger;
  /** Largest request body in bytes. */
  bodyLimit: number;
  ingest: IngestRouteOptions;
}

/**
 * Builds the HTTP API without listening (tests use `app.inject()`; src/api/listen.ts
 * listens). Routes come from the modules that own them.
 */
export async function buildApp(deps: ApiDeps): Promise<FastifyInstance> {
  const logger: FastifyBaseLogger = deps.logger.child({ module: 'api' });
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: deps.bodyLimit,
    // Request lines would drown the logs at ingest rates; /metrics has HTTP latency.
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
  });
  installErrorHandling(app);
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Sluice API',
        version: '0.1.0',
        description: 'Event-sourced document indexing on NATS JetStream',
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.get('/healthz', { schema: { tags: ['health'], summary: 'The process is up' } }, () => ({
    status: 'ok',
  }));
  registerIngestRoute(app, deps.ingest);
  return app;
}
