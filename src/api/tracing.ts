import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  defaultTextMapGetter,
  propagation,
  trace,
  type Span,
} from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { tracer } from '../tracing/index.js';

/** Probes, docs, the dashboard's files and its endless stream: many, alike, of no interest in a trace. */
const untraced = /^\/(healthz|readyz|metrics|docs|ui|v1\/pipeline\/stream)(\/|$|\?)/;

/**
 * A SERVER span per request, continuing the caller's `traceparent`, active while the
 * route runs so that what it publishes (ingest) or times (search) becomes its child.
 */
export function installTracing(app: FastifyInstance): void {
  const spans = new WeakMap<FastifyRequest, Span>();
  app.addHook('onRequest', (request, _reply, done) => {
    if (untraced.test(request.url)) return done();
    const parent = propagation.extract(ROOT_CONTEXT, request.headers, defaultTextMapGetter);
    const route = request.routeOptions.url ?? 'unknown';
    spans.set(
      request,
      tracer.startSpan(
        `${request.method} ${route}`,
        {
          kind: SpanKind.SERVER,
          attributes: {
            'http.request.method': request.method,
            'http.route': route,
            'url.path': request.url.split('?')[0],
          },
        },
        parent,
      ),
    );
    done();
  });
  // The last hook before the handler: the body has been read, and what runs from here
  // on runs in the request's span.
  app.addHook('preHandler', (request, _reply, done) => {
    const span = spans.get(request);
    if (!span) return done();
    context.with(trace.setSpan(context.active(), span), done);
  });
  app.addHook('onResponse', (request, reply, done) => {
    const span = spans.get(request);
    if (span) {
      span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
    done();
  });
  app.addHook('onRequestAbort', (request, done) => {
    const span = spans.get(request);
    span?.setStatus({ code: SpanStatusCode.ERROR, message: 'client aborted' });
    span?.end();
    done();
  });
}
