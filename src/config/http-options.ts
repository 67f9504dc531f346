import { bytes, duration, int, oneOf, pattern, str, trustProxy } from './options.js';
import { opt } from './option-spec.js';

/** The HTTP API and the ops server: where they listen, who may call them, how much they take. */
export const httpOptions = {
  httpHost: opt({
    env: 'SLUICE_HTTP_HOST',
    default: '127.0.0.1',
    parse: str,
    doc: 'Address the HTTP API listens on (api role).',
  }),
  httpPort: opt({
    env: 'SLUICE_HTTP_PORT',
    default: '8080',
    parse: int(0, 65535),
    doc: 'Port of the HTTP API (api role); 0 picks a free port.',
  }),
  opsPort: opt({
    env: 'SLUICE_OPS_PORT',
    default: '',
    parse: (raw): number | null => (raw.trim() === '' ? null : int(0, 65535)(raw)),
    doc: 'Port of a second server with only /healthz, /readyz and /metrics, in every process whatever its roles (probes, scraping of worker processes); 0 picks a free port. Unset: none.',
  }),
  auth: opt({
    env: 'SLUICE_AUTH',
    default: 'keys',
    parse: oneOf('keys', 'off'),
    doc: 'keys: every API route but health, metrics and docs needs an API key (sluice keys create); off: local development only, every caller is an operator acting for SLUICE_DEFAULT_TENANT.',
  }),
  defaultTenant: opt({
    env: 'SLUICE_DEFAULT_TENANT',
    default: 'default',
    parse: pattern(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'a tenant name'),
    doc: 'The tenant of every caller when SLUICE_AUTH=off.',
  }),
  trustProxy: opt({
    env: 'SLUICE_TRUST_PROXY',
    default: 'false',
    parse: trustProxy,
    doc: "Whose X-Forwarded-For gives the client address (for failed-key limits and rate limits): false (the connection's address), true (any proxy), a hop count, or proxy addresses/CIDRs, comma-separated.",
  }),
  authFailures: opt({
    env: 'SLUICE_AUTH_FAILURES',
    default: '60',
    parse: int(1, 1_000_000),
    doc: 'Failed checks of one API key id from one client address per minute before 429; other keys from that address are still checked.',
  }),
  rateLimit: opt({
    env: 'SLUICE_RATE_LIMIT',
    default: '1200',
    parse: int(1, 1_000_000),
    doc: 'Requests per minute per API key; beyond it, 429 RATE_LIMITED with Retry-After.',
  }),
  apiKey: opt({
    env: 'SLUICE_API_KEY',
    default: '',
    parse: str,
    secret: true,
    doc: 'API key that CLI commands calling the HTTP API send (sluice eval); --key overrides it.',
  }),
  httpBodyLimit: opt({
    env: 'SLUICE_HTTP_BODY_LIMIT',
    default: '64M',
    parse: bytes,
    doc: 'Largest body of POST /v1/events; a larger one is answered 413 BODY_TOO_LARGE. Every other route takes at most 1 MiB.',
  }),
  ingestMaxEvents: opt({
    env: 'SLUICE_INGEST_MAX_EVENTS',
    default: '10000',
    parse: int(1, 1_000_000),
    doc: 'Most events in one POST /v1/events; more is answered 413 BATCH_TOO_LARGE before any is published.',
  }),
  statementTimeout: opt({
    env: 'SLUICE_STATEMENT_TIMEOUT',
    default: '10s',
    parse: duration,
    doc: 'Longest a query of the HTTP API may run in PostgreSQL (statement_timeout); a slower one is cancelled there and answered 503 QUERY_TIMEOUT.',
  }),
};
