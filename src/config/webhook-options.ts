import { duration, int, list } from './options.js';
import { opt } from './option-spec.js';

/** Webhooks: reach, concurrency, retries, retention and secrets. */
export const webhookOptions = {
  webhookAllow: opt({
    env: 'SLUICE_WEBHOOK_ALLOW',
    default: '',
    parse: list((raw) => raw),
    doc: 'Hosts and networks (CIDR) webhooks may reach although they are private, loopback or link-local, comma-separated; by default none.',
  }),
  webhookTimeout: opt({
    env: 'SLUICE_WEBHOOK_TIMEOUT',
    default: '10s',
    parse: duration,
    doc: 'How long a webhook request may take before it counts as failed.',
  }),
  webhookMaxAttempts: opt({
    env: 'SLUICE_WEBHOOK_MAX_ATTEMPTS',
    default: '15',
    parse: int(1, 100),
    doc: 'Attempts of a webhook delivery before it is dead (redrive it over the API).',
  }),
  webhookEndpointConcurrency: opt({
    env: 'SLUICE_WEBHOOK_ENDPOINT_CONCURRENCY',
    default: '8',
    parse: int(1, 256),
    doc: 'Webhook requests in flight to one endpoint at most: a slow or dead endpoint holds no more of the SLUICE_WEBHOOK_CONCURRENCY slots.',
  }),
  webhookConcurrency: opt({
    env: 'SLUICE_WEBHOOK_CONCURRENCY',
    default: '64',
    parse: int(1, 4096),
    doc: 'Webhook requests in flight in all, per output process.',
  }),
  webhookTenantConcurrency: opt({
    env: 'SLUICE_WEBHOOK_TENANT_CONCURRENCY',
    default: '16',
    parse: int(1, 4096),
    doc: "Webhook requests in flight for one tenant at most, per output process: one tenant's dead endpoints or callback flood hold no more, and tenants with pending deliveries take turns for the free slots. With one tenant, raise it to SLUICE_WEBHOOK_CONCURRENCY.",
  }),
  webhookMaxSubscriptions: opt({
    env: 'SLUICE_WEBHOOK_MAX_SUBSCRIPTIONS',
    default: '100',
    parse: int(1, 100_000),
    doc: 'Webhook subscriptions one tenant may have; another is answered 409 WEBHOOK_LIMIT.',
  }),
  webhookRetention: opt({
    env: 'SLUICE_WEBHOOK_RETENTION',
    default: '30d',
    parse: duration,
    doc: 'How long finished webhook deliveries (succeeded, dead, gone, cancelled) and their attempts are kept; the output role deletes older ones in batches every few minutes. Pending deliveries are kept whatever their age. 0 keeps everything.',
  }),
  webhookSecretOverlap: opt({
    env: 'SLUICE_WEBHOOK_SECRET_OVERLAP',
    default: '24h',
    parse: duration,
    doc: 'After a webhook or callback secret is rotated, how long requests carry a signature with the old secret too (so receivers and pending retries can switch over); 0 drops the old one at once.',
  }),
  webhookBackoff: opt({
    env: 'SLUICE_WEBHOOK_BACKOFF',
    default: '5s',
    parse: duration,
    doc: 'First retry delay of a failed webhook delivery, doubled each attempt with jitter, at most an hour (15 attempts span about 8 hours).',
  }),
};
