import { keyValues, num, pattern, url } from './options.js';
import { opt } from './option-spec.js';

/** OpenTelemetry tracing (the standard OTEL_* variables). */
export const tracingOptions = {
  otlpEndpoint: opt({
    env: 'OTEL_EXPORTER_OTLP_ENDPOINT',
    default: '',
    parse: (raw) => (raw === '' ? '' : url('http', 'https')(raw)),
    doc: 'OpenTelemetry collector (OTLP over HTTP, e.g. http://otel-collector:4318): traces go to <url>/v1/traces. Unset: tracing is off.',
  }),
  otlpTracesEndpoint: opt({
    env: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
    default: '',
    parse: (raw) => (raw === '' ? '' : url('http', 'https')(raw)),
    doc: 'Full OTLP/HTTP traces URL; wins over OTEL_EXPORTER_OTLP_ENDPOINT.',
  }),
  otlpHeaders: opt({
    env: 'OTEL_EXPORTER_OTLP_HEADERS',
    default: '',
    parse: keyValues,
    secret: true,
    doc: 'Headers sent to the collector, key=value pairs, comma-separated (an API key, say).',
  }),
  serviceName: opt({
    env: 'OTEL_SERVICE_NAME',
    default: 'sluice',
    parse: pattern(/^\S{1,128}$/, 'a service name without spaces'),
    doc: 'service.name of the spans this process exports.',
  }),
  traceSampleRatio: opt({
    env: 'OTEL_TRACES_SAMPLER_ARG',
    default: '1',
    parse: num(0, 1),
    doc: 'Share of new traces kept, 0 to 1 (parent-based: a trace sampled upstream is always followed).',
  }),
};
