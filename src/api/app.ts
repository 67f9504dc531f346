import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { DeadLetters } from '../dead-letters/index.js';
import { SluiceError } from '../errors/index.js';
import type { Logger } from '../logger.js';
import { httpSeconds } from '../metrics.js';
import { registerFileRoute } from '../producers/index.js';
import { registerIngestRoute, type IngestRouteOptions } from '../producers/index.js';
import type { Replayer } from '../replay/index.js';
import { installAuth, isDocsUrl, routeScope, type AuthMode } from './auth.js';
import { installErrorHandling } from './errors.js';
import { installTracing } from './tracing.js';
import type { RedriveJobs } from './redrive-jobs.js';
import { registerDeadLetterRoutes } from './routes/dead-letters.js';
import { registerWebhookRoutes, type WebhookRoutesOptions } from './routes/webhooks.js';
import { checkTarget, WebhookAllowlist } from '../output/index.js';
import { registerDocumentRoutes } from './routes/documents.js';
import { registerOpsRoutes, type Check } from '../ops/index.js';
import { registerReplayRoutes } from './routes/replays.js';
import { registerSearchRoute, type SearchRouteOptions } from './routes/search.js';
import { registerModelRoutes } from './routes/models.js';
import { registerPipelineRoutes } from './routes/pipeline.js';
import { registerSessionRoutes } from './routes/session.js';
import { registerUiRoutes } from './routes/ui.js';
import type { MetricsHistory } from './metrics-history.js';
import type { PipelineStatusReader } from '../pipeline-status/index.js';
import type { NatsConnection } from '@nats-io/transport-node';
import { installValidation } from './validation.js';

/** Longest path parameter, URL-encoded: a 1,024-character id of 4-byte characters, and room. */
export const MAX_PARAM_LENGTH = 16 * 1024;

/** Largest request body of every route but ingest: searches and settings are small. */
export const API_BODY_LIMIT = 1024 * 1024;

export interface ApiDeps {
  logger: Logger;
  /** Largest body of POST /v1/events in bytes; every other route takes API_BODY_LIMIT. */
  bodyLimit: number;
  auth: AuthMode;
  /** Whose X-Forwarded-For to believe (SLUICE_TRUST_PROXY). @defaultValue false */
  trustProxy?: boolean | number | string[];
  /** Requests per minute per API key. @defaultValue 1200 */
  rateLimit?: number;
  ingest: Omit<IngestRouteOptions, 'tenantOf' | 'bodyLimit'>;
  /** Largest raw file of POST /v1/documents/{collection}/{id}. @defaultValue 67_108_864 */
  fileMaxBytes?: number;
  /** Read models and search (omitted: those routes are not mounted). */
  queries?: SearchRouteOptions;
  /** Dead letters and the jobs that redrive them (both, or neither route is mounted). */
  letters?: { letters: DeadLetters; jobs: RedriveJobs };
  replayer?: Replayer;
  /** Webhook subscriptions (omitted: those routes are not mounted). */
  webhooks?: WebhookRoutesOptions;
  /** /readyz checks by name. */
  checks?: Record<string, Check>;
  /** The pipeline's live state and recent history (omitted: those routes are not mounted). */
  pipeline?: { reader: PipelineStatusReader; history: MetricsHistory };
  /** The event log, for a document's events (omitted: that route is not mounted). */
  eventLog?: { nc: NatsConnection; namespace: string };
  /** Refreshes JetStream-derived gauges before /metrics answers. */
  beforeScrape?: () => Promise<void>;
}

/** A hop count as the function Fastify takes (its types admit no number). */
const trustProxyOption = (
  t: boolean | number | string[],
): boolean | string[] | ((address: string, hop: number) => boolean) =>
  typeof t === 'number' ? (_address, hop) => hop < t : t;

/**
 * Builds the HTTP API without listening (tests use `app.inject()`; src/ops/listen.ts
 * listens). Routes come from the modules that own them.
 */
export async function buildApp(deps: ApiDeps): Promise<FastifyInstance> {
  const logger: FastifyBaseLogger = deps.logger.child({ module: 'api' });
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: API_BODY_LIMIT,
    // A document id may be 1,024 characters of any Unicode: up to 12 characters each
    // once URL-encoded (%F0%9F%98%80). Fastify's default of 100 answered such ids 404.
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    trustProxy: trustProxyOption(deps.trustProxy ?? false),
    // Request lines would drown the logs at ingest rates; /metrics has HTTP latency.
    logController: new LogController({ disableRequestLogging: true }),
  });
  installValidation(app);
  installErrorHandling(app);
  installTracing(app);
  app.addHook('onResponse', (request, reply, done) => {
    httpSeconds.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unknown',
        status: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
    done();
  });
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Sluice API',
        version: '0.1.0',
        description: 'Event-sourced document indexing on NATS JetStream',
      },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
      security: [{ apiKey: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: {}, staticCSP: false });
  installAuth(app, deps.auth);
  await app.register(rateLimit, {
    max: deps.rateLimit ?? 1200,
    timeWindow: 60_000,
    // After authentication (its hook comes first), before the body is read and parsed:
    // limits are per API key, and a refused request costs no parsing.
    hook: 'onRequest',
    keyGenerator: (request) => request.principal?.keyId ?? request.ip,
    allowList: (request) => request.routeOptions.config?.scope === 'none' || isDocsUrl(request.url),
    errorResponseBuilder: (_request, context) =>
      new SluiceError(
        'RATE_LIMITED',
        `rate limit of ${context.max} requests per minute reached; retry in ${context.after}`,
      ),
  });

  registerOpsRoutes(app, deps.checks ?? {}, deps.beforeScrape, routeScope.public);
  registerUiRoutes(app);
  await registerIngestRoute(app, {
    bodyLimit: deps.bodyLimit,
    ...deps.ingest,
    // The tenant comes from the key; only with authentication off may a caller write anywhere.
    tenantOf: (request) => (deps.auth.mode === 'off' ? undefined : request.principal?.tenant),
    // Callbacks go through the outbound guard at ingest too; without a webhooks setting
    // no private target is allowed.
    checkCallback: (url) => checkTarget(url, deps.webhooks?.allow ?? new WebhookAllowlist([])),
  });
  await registerFileRoute(app, {
    producer: deps.ingest.producer,
    maxFileBytes: deps.fileMaxBytes ?? 64 * 1024 * 1024,
    tenantOf: (request) => (deps.auth.mode === 'off' ? undefined : request.principal?.tenant),
  });
  if (deps.queries) {
    registerSearchRoute(app, deps.queries);
    registerDocumentRoutes(app, deps.queries.sql, deps.queries.waiters, deps.eventLog);
    registerModelRoutes(app, deps.queries.sql, deps.queries.models, deps.queries.defaultModel);
  }
  registerSessionRoutes(app, deps.queries ? [...deps.queries.models.keys()] : []);
  if (deps.pipeline) registerPipelineRoutes(app, deps.pipeline.reader, deps.pipeline.history);
  if (deps.letters) registerDeadLetterRoutes(app, deps.letters.letters, deps.letters.jobs);
  if (deps.webhooks) registerWebhookRoutes(app, deps.webhooks);
  if (deps.replayer) registerReplayRoutes(app, deps.replayer, deps.logger);
  return app;
}
