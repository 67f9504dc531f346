import type { FastifyContextConfig, FastifyInstance } from 'fastify';
import { registry } from '../metrics.js';

export type Check = () => Promise<unknown>;

async function run(check: Check, timeoutMs: number): Promise<{ ok: boolean; error?: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise(
        (_, reject) =>
          (timer = setTimeout(
            () => reject(new Error(`no answer within ${timeoutMs} ms`)),
            timeoutMs,
          )),
      ),
    ]);
    return { ok: true };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * /healthz: the process is up. /readyz: every dependency answers (NATS, PostgreSQL,
 * models); 503 "degraded" naming the failing ones otherwise. /metrics: Prometheus.
 * All three are public: `config` is what the API's auth declares for a public route
 * (the ops server has no auth and passes none).
 */
export function registerOpsRoutes(
  app: FastifyInstance,
  checks: Record<string, Check>,
  beforeScrape?: () => Promise<void>,
  config: FastifyContextConfig = {},
): void {
  app.get(
    '/healthz',
    { config, schema: { tags: ['operations'], summary: 'The process is up' } },
    () => ({ status: 'ok' }),
  );
  app.get(
    '/readyz',
    {
      config,
      schema: {
        tags: ['operations'],
        summary: 'Every dependency answers (503 degraded when one does not)',
      },
    },
    async (_req, reply) => {
      const results = Object.fromEntries(
        await Promise.all(
          Object.entries(checks).map(async ([name, c]) => [name, await run(c, 2_000)] as const),
        ),
      );
      const ok = Object.values(results).every((r) => r.ok);
      return reply.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'degraded', checks: results });
    },
  );
  app.get(
    '/metrics',
    { config, schema: { tags: ['operations'], summary: 'Prometheus metrics', hide: true } },
    async (_req, reply) => {
      await beforeScrape?.().catch((err: unknown) =>
        app.log.warn({ err }, 'metrics: JetStream figures unavailable'),
      );
      return reply.type(registry.contentType).send(await registry.metrics());
    },
  );
}
