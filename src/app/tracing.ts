import type { Config } from '../config/index.js';
import { startTracing, type Tracing } from '../tracing/index.js';

/** Starts tracing as the configuration asks (off unless an OTLP endpoint is set). */
export function startConfiguredTracing(
  config: Config,
  roles: readonly string[],
): Tracing | undefined {
  return startTracing({
    ...(config.otlpEndpoint ? { endpoint: config.otlpEndpoint } : {}),
    ...(config.otlpTracesEndpoint ? { tracesEndpoint: config.otlpTracesEndpoint } : {}),
    ...(Object.keys(config.otlpHeaders).length > 0 ? { headers: config.otlpHeaders } : {}),
    serviceName: config.serviceName,
    roles,
    sampleRatio: config.traceSampleRatio,
  });
}
