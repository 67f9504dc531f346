import type { FastifyInstance } from 'fastify';
import { routeScope } from '../auth.js';
import type { Static } from 'typebox';
import Type from 'typebox';
import type { PipelineStatusReader } from '../../pipeline-status/index.js';
import type { MetricsHistory } from '../metrics-history.js';

const HistoryQuery = Type.Object(
  { minutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 15, default: 15 })) },
  { additionalProperties: false },
);

/** How often the pipeline stream sends a reading. */
export const PIPELINE_STREAM_MS = 2_000;

/**
 * The pipeline as operators watch it (operator keys: the counts span every tenant):
 * every durable's backlog and rate, the live processes, a stream of those readings
 * (Server-Sent Events), and the last minutes of throughput and latency.
 */
export function registerPipelineRoutes(
  app: FastifyInstance,
  reader: PipelineStatusReader,
  history: MetricsHistory,
): void {
  const config = routeScope.operator;
  // Open streams end when the API closes: a stream never ends on its own, and the
  // server would wait for it.
  const streams = new Set<() => void>();
  app.addHook('preClose', (done) => {
    for (const end of streams) end();
    done();
  });
  app.get(
    '/v1/pipeline',
    {
      config,
      schema: {
        tags: ['operations'],
        summary:
          "Every durable's pending, ack-pending and redelivered counts, rate, time to drain and dead letters; the running processes",
      },
    },
    async () => reader.read(await reader.sample(), history.lastDurables),
  );
  app.get(
    '/v1/pipeline/stream',
    {
      config,
      schema: {
        tags: ['operations'],
        summary: `The same reading every ${PIPELINE_STREAM_MS / 1000} s as Server-Sent Events (event: pipeline), until the client goes`,
      },
    },
    async (request, reply) => {
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        // The socket goes with the stream, so stopping the API does not wait for it to idle.
        connection: 'close',
        'x-accel-buffering': 'no',
      });
      let previous = history.lastDurables;
      let closed = false;
      let wake: (() => void) | undefined;
      const end = (): void => {
        closed = true;
        wake?.();
      };
      streams.add(end);
      request.raw.once('close', end);
      while (!closed) {
        try {
          const current = await reader.sample();
          const status = await reader.read(current, previous);
          previous = current;
          if (!closed) res.write(`event: pipeline\ndata: ${JSON.stringify(status)}\n\n`);
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          if (!closed) res.write(`event: error\ndata: ${JSON.stringify({ message })}\n\n`);
        }
        await new Promise<void>((r) => {
          const timer = setTimeout(r, PIPELINE_STREAM_MS);
          wake = () => {
            clearTimeout(timer);
            r();
          };
        });
      }
      streams.delete(end);
      res.end();
    },
  );
  app.get<{ Querystring: Static<typeof HistoryQuery> }>(
    '/v1/metrics/history',
    {
      config,
      schema: {
        tags: ['operations'],
        summary:
          "The last minutes of throughput (per durable, per stage, chunks and tokens) and search latency, one point per interval, from this process's own metrics",
        querystring: HistoryQuery,
      },
    },
    (request) => ({
      intervalMs: history.intervalMs,
      points: history.since(Date.now() - (request.query.minutes ?? 15) * 60_000),
    }),
  );
}
