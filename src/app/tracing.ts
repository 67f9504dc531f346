import type { Config } from '../config/index.js';
import type { Tracing } from '../tracing/index.js';

/**
 * Starts tracing as the configuration asks: off (and the OpenTelemetry SDK not even
 * loaded, about 100 ms at import) unless an OTLP endpoint is set.
 */
export async function startConfiguredTracing(
  config: Config,
  roles: readonly string[],
): Promise<Tracing | undefined> {
  if (!config.otlpEndpoint && !config.otlpTracesEndpoint) return undefined;
  const { startTracing } = await import('../tracing/provider.js');
  return startTracing({
    ...(config.otlpEndpoint ? { endpoint: config.otlpEndpoint } : {}),
    ...(config.otlpTracesEndpoint ? { tracesEndpoint: config.otlpTracesEndpoint } : {}),
    ...(Object.keys(config.otlpHeaders).length > 0 ? { headers: config.otlpHeaders } : {}),
    serviceName: config.serviceName,
    roles,
    sampleRatio: config.traceSampleRatio,
  });
}
