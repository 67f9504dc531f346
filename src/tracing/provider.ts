import { context, propagation, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  NodeTracerProvider,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-node';

export interface TracingOptions {
  /**
   * OTLP/HTTP base URL (`OTEL_EXPORTER_OTLP_ENDPOINT`); spans go to `<url>/v1/traces`.
   * Without it and without `exporter`, tracing stays off.
   */
  endpoint?: string;
  /** Full traces URL (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`); wins over `endpoint`. */
  tracesEndpoint?: string;
  /** Extra request headers for the collector (`OTEL_EXPORTER_OTLP_HEADERS`, `k=v,k2=v2`). */
  headers?: Record<string, string>;
  /** `service.name` of every span. @defaultValue 'sluice' */
  serviceName?: string;
  /** Roles this process runs, as the `sluice.roles` resource attribute. */
  roles?: readonly string[];
  /** Share of new traces kept (parent-based: a sampled parent is always followed). @defaultValue 1 */
  sampleRatio?: number;
  /** An exporter of your own (tests: the SDK's InMemorySpanExporter), exported span by span. */
  exporter?: SpanExporter;
}

export interface Tracing {
  /** Exports what is buffered; spans ended before this call are sent. */
  flush(): Promise<void>;
  /** Flushes, then turns tracing off for this process. */
  shutdown(): Promise<void>;
}

/**
 * Turns on OpenTelemetry tracing for this process when an OTLP endpoint (or an exporter)
 * is given: a tracer provider with W3C trace-context propagation and an
 * AsyncLocalStorage context manager, registered globally. Otherwise nothing is
 * registered and every span Sluice starts is the API's no-op span.
 */
export function startTracing(o: TracingOptions): Tracing | undefined {
  const url =
    o.tracesEndpoint ?? (o.endpoint ? `${o.endpoint.replace(/\/+$/, '')}/v1/traces` : undefined);
  if (!o.exporter && !url) return undefined;
  const processor = o.exporter
    ? new SimpleSpanProcessor(o.exporter)
    : new BatchSpanProcessor(
        new OTLPTraceExporter({ url: url!, ...(o.headers ? { headers: o.headers } : {}) }),
      );
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      'service.name': o.serviceName ?? 'sluice',
      'process.pid': process.pid,
      ...(o.roles ? { 'sluice.roles': o.roles.join(',') } : {}),
    }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(o.sampleRatio ?? 1) }),
    spanProcessors: [processor],
  });
  provider.register();
  return {
    flush: () => provider.forceFlush(),
    shutdown: async () => {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}
