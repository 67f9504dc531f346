import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The process's Prometheus registry and the metrics every module records. Lag and
 * dead-letter depth are gauges read from JetStream when /metrics is scraped.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'sluice_' });

export const messagesTotal = new Counter({
  name: 'sluice_messages_total',
  help: 'Messages handled by a durable consumer, by outcome (ok, retried, parked, dead)',
  labelNames: ['consumer', 'outcome'] as const,
  registers: [registry],
});

export const failuresTotal = new Counter({
  name: 'sluice_failures_total',
  help: 'Failed attempts by consumer and error code',
  labelNames: ['consumer', 'code'] as const,
  registers: [registry],
});

export const batchSeconds = new Histogram({
  name: 'sluice_batch_duration_seconds',
  help: 'Time a consumer spends on one batch of messages',
  labelNames: ['consumer'] as const,
  buckets: [0.005, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [registry],
});

export const embeddingsTotal = new Counter({
  name: 'sluice_embeddings_total',
  help: 'Chunks embedded (computed, not taken from the cache), by model',
  labelNames: ['model'] as const,
  registers: [registry],
});

export const embeddingCacheTotal = new Counter({
  name: 'sluice_embedding_cache_total',
  help: 'Embedding cache lookups by model and result (hit, miss)',
  labelNames: ['model', 'result'] as const,
  registers: [registry],
});

export const embeddingSeconds = new Histogram({
  name: 'sluice_embedding_duration_seconds',
  help: 'Time to embed one batch of chunks (tokenise, run, pool)',
  labelNames: ['model'] as const,
  buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
  registers: [registry],
});

export const tokensEmbeddedTotal = new Counter({
  name: 'sluice_tokens_embedded_total',
  help: 'Tokens of the chunks embedded (computed, not taken from the cache), by model',
  labelNames: ['model'] as const,
  registers: [registry],
});

export const stageLatencySeconds = new Histogram({
  name: 'sluice_stage_latency_seconds',
  help: "Time from a document version's event time to the stage it reached (chunked, embedded, indexed: every part), as the documents projection records them",
  labelNames: ['stage'] as const,
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
  registers: [registry],
});

/**
 * Labels every metric of this process with the roles it runs (`role="api,chunker"`), so
 * that one dashboard tells the processes of a split deployment apart.
 */
export function labelProcess(roles: readonly string[]): void {
  registry.setDefaultLabels({ role: roles.join(',') });
}

export const chunksIndexedTotal = new Counter({
  name: 'sluice_chunks_indexed_total',
  help: 'Chunks written to the vector index, by model',
  labelNames: ['model'] as const,
  registers: [registry],
});

export const httpSeconds = new Histogram({
  name: 'sluice_http_request_duration_seconds',
  help: 'HTTP request latency by method, route and status',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [registry],
});

/** Read from JetStream at scrape time (see api/role.ts). */
export const consumerPending = new Gauge({
  name: 'sluice_consumer_pending_messages',
  help: 'Messages a durable consumer has not been delivered yet (its lag)',
  labelNames: ['durable'] as const,
  registers: [registry],
});

export const consumerAckPending = new Gauge({
  name: 'sluice_consumer_ack_pending_messages',
  help: 'Messages delivered to a durable consumer and not yet acknowledged',
  labelNames: ['durable'] as const,
  registers: [registry],
});

export const deadLetters = new Gauge({
  name: 'sluice_dead_letters',
  help: 'Dead letters waiting, by consumer',
  labelNames: ['consumer'] as const,
  registers: [registry],
});

export const breakerOpen = new Gauge({
  name: 'sluice_breaker_open',
  help: "1 while a dependency's circuit breaker is open: consumers hold their work and wait",
  labelNames: ['dependency'] as const,
  registers: [registry],
});

export const handlerTimeoutsTotal = new Counter({
  name: 'sluice_handler_timeouts_total',
  help: 'Batches whose handler ran past the stage timeout',
  labelNames: ['consumer'] as const,
  registers: [registry],
});

export const webhookDeliveriesTotal = new Counter({
  name: 'sluice_webhook_deliveries_total',
  // No subscription ids or tenants: /metrics is anonymous (the delivery log has them).
  help: 'Webhook delivery attempts by target (subscription or callback) and outcome: succeeded, retry, dead, gone',
  labelNames: ['target', 'outcome'] as const,
  registers: [registry],
});

export const webhookSeconds = new Histogram({
  name: 'sluice_webhook_request_duration_seconds',
  help: 'Webhook request latency by target (subscription or callback)',
  labelNames: ['target'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});
