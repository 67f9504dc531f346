import { SluiceError } from '../errors/index.js';
import {
  bool,
  bytes,
  duration,
  int,
  keyValues,
  list,
  num,
  oneOf,
  pattern,
  redact,
  str,
  trustProxy,
  url,
  type Parser,
} from './options.js';

interface OptionSpec<T> {
  /** Environment variable that sets it. */
  env: string;
  /** Value used when the variable is unset; `undefined` makes the option required. */
  default: string | undefined;
  parse: Parser<T>;
  /** One line for the README's config table. */
  doc: string;
  /** Never printed whole (passwords in URLs). */
  secret?: boolean;
}

function opt<T>(spec: OptionSpec<T>): OptionSpec<T> {
  return spec;
}

export const roleNames = [
  'api',
  'chunker',
  'embedder',
  'indexer',
  'projector',
  'output',
  'parser',
] as const;
export type Role = (typeof roleNames)[number];

/**
 * Every setting Sluice reads, with its default. This table is the single source for
 * `loadConfig`, for `sluice config`, and for the README's configuration reference
 * (kept in step by a unit test).
 */
export const configSpec = {
  natsUrl: opt({
    env: 'NATS_URL',
    default: 'nats://127.0.0.1:4222',
    parse: list(url('nats', 'tls', 'ws', 'wss')),
    doc: 'NATS server URL(s), comma-separated; JetStream must be enabled (nats-server >= 2.10).',
    secret: true,
  }),
  databaseUrl: opt({
    env: 'DATABASE_URL',
    default: 'postgres://postgres:sluice@127.0.0.1:5432/sluice',
    parse: url('postgres', 'postgresql'),
    doc: 'PostgreSQL >= 17 with pgvector >= 0.8. Migrations are applied at start.',
    secret: true,
  }),
  namespace: opt({
    env: 'SLUICE_NAMESPACE',
    default: 'sluice',
    parse: pattern(/^[a-z][a-z0-9_]{0,30}$/, 'a lowercase name such as sluice ([a-z][a-z0-9_]*)'),
    doc: 'Prefix of every subject, stream, consumer and bucket, so several installations can share one NATS account.',
  }),
  roles: opt({
    env: 'SLUICE_ROLES',
    default: roleNames.join(','),
    parse: list(oneOf(...roleNames)),
    doc: `Roles this process runs, comma-separated, from: ${roleNames.join(', ')}.`,
  }),
  logLevel: opt({
    env: 'LOG_LEVEL',
    default: 'info',
    parse: oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'),
    doc: 'pino log level.',
  }),
  logFormat: opt({
    env: 'LOG_FORMAT',
    default: 'auto',
    parse: oneOf('auto', 'json', 'pretty'),
    doc: 'Logs on stdout: json (one JSON line each, for collectors), pretty (coloured lines for people), or auto (pretty on a terminal, json otherwise).',
  }),
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
  searchQueue: opt({
    env: 'SLUICE_SEARCH_QUEUE',
    default: '64',
    parse: int(1, 100_000),
    doc: 'Searches that may wait at once for their query to be embedded, per model; more are answered 503 SEARCH_OVERLOADED.',
  }),
  searchEmbedTimeout: opt({
    env: 'SLUICE_SEARCH_EMBED_TIMEOUT',
    default: '5s',
    parse: duration,
    doc: 'How long a search waits for its query to be embedded before it is answered 503 SEARCH_OVERLOADED.',
  }),
  searchEf: opt({
    env: 'SLUICE_SEARCH_EF',
    default: '100',
    parse: int(10, 1000),
    doc: 'hnsw.ef_search of search queries: higher finds more true neighbours, slower.',
  }),
  keywordDepth: opt({
    env: 'SLUICE_KEYWORD_DEPTH',
    default: '1000',
    parse: int(10, 10_000_000),
    doc: 'Postings per query term that keyword search reads in its first round, best first; it reads 4× more per round until no unread posting can enter the top k, so results are exact BM25 whatever the value. See docs/search.md.',
  }),
  apiKey: opt({
    env: 'SLUICE_API_KEY',
    default: '',
    parse: str,
    secret: true,
    doc: 'API key that CLI commands calling the HTTP API send (sluice eval); --key overrides it.',
  }),
  streamReplicas: opt({
    env: 'SLUICE_STREAM_REPLICAS',
    default: '1',
    parse: int(1, 5),
    doc: 'Replicas of every stream and bucket: 1 on a single server, 3 on a cluster.',
  }),
  eventsMaxAge: opt({
    env: 'SLUICE_EVENTS_MAX_AGE',
    default: '0',
    parse: duration,
    doc: 'Age after which the event log drops events (0: never). It is the source of truth for replay: keep it.',
  }),
  streamMaxAge: opt({
    env: 'SLUICE_STREAM_MAX_AGE',
    default: '0',
    parse: duration,
    doc: 'Age after which the derived streams (chunks, status) drop messages (0: never). Vectors are kept for index replay.',
  }),
  streamMaxBytes: opt({
    env: 'SLUICE_STREAM_MAX_BYTES',
    default: '0',
    parse: bytes,
    doc: 'Size limit of each derived stream (0: unlimited); the oldest messages go first.',
  }),
  dlqMaxAge: opt({
    env: 'SLUICE_DLQ_MAX_AGE',
    default: '30d',
    parse: duration,
    doc: 'How long dead letters are kept before they expire.',
  }),
  duplicateWindow: opt({
    env: 'SLUICE_DUPLICATE_WINDOW',
    default: '2m',
    parse: duration,
    doc: 'Window in which JetStream drops a re-published event id as a duplicate.',
  }),
  maxMessageBytes: opt({
    env: 'SLUICE_MAX_MESSAGE_BYTES',
    default: '1M',
    parse: bytes,
    doc: 'Largest message Sluice writes to a stream; must not exceed the server max_payload.',
  }),
  maxDocumentBytes: opt({
    env: 'SLUICE_MAX_DOCUMENT_BYTES',
    default: '16M',
    parse: bytes,
    doc: 'Largest document text accepted; a larger one is rejected with DOCUMENT_TOO_LARGE.',
  }),
  fileMaxBytes: opt({
    env: 'SLUICE_FILE_MAX_BYTES',
    default: '64M',
    parse: bytes,
    doc: 'Largest raw file (PDF, HTML, DOCX) accepted by POST /v1/documents/{collection}/{id}, sluice publish and the SDK; a larger one is FILE_TOO_LARGE.',
  }),
  filesMaxAge: opt({
    env: 'SLUICE_FILES_MAX_AGE',
    default: '0',
    parse: duration,
    doc: 'Age after which raw files expire from the files bucket (0: never). A replay re-parses from them: keep them as long as the event log. Applies when the bucket is created.',
  }),
  parseMaxPages: opt({
    env: 'SLUICE_PARSE_MAX_PAGES',
    default: '5000',
    parse: int(1, 1_000_000),
    doc: 'Most pages of a PDF the parser reads; a longer one is dead-lettered as FILE_TOO_LARGE.',
  }),
  parseTimeout: opt({
    env: 'SLUICE_PARSE_TIMEOUT',
    default: '2m',
    parse: duration,
    doc: 'Longest the parser spends on one file; past it the parsing thread is stopped and the file dead-lettered as FILE_TOO_LARGE.',
  }),
  parseMaxMemory: opt({
    env: 'SLUICE_PARSE_MAX_MEMORY',
    default: '512M',
    parse: bytes,
    doc: "Heap of the parser's worker thread; a file that needs more is dead-lettered as FILE_TOO_LARGE (a DOCX may unpack to half of it).",
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
  dbStatementTimeout: opt({
    env: 'SLUICE_DB_STATEMENT_TIMEOUT',
    default: '5m',
    parse: duration,
    doc: "Longest any statement of the roles' PostgreSQL pools may run (statement_timeout), as long as SLUICE_HANDLER_TIMEOUT by default so no statement outlives its batch; 0 for none. Migrations, index builds (HNSW, keyword rebuilds, replay's shadow indexes) and replay's copy of the live tables run without it; the HTTP API's queries have SLUICE_STATEMENT_TIMEOUT instead.",
  }),
  claimCheckBytes: opt({
    env: 'SLUICE_CLAIM_CHECK_BYTES',
    default: '256k',
    parse: bytes,
    doc: 'Document text larger than this goes to the object store and the event carries a reference.',
  }),
  models: opt({
    env: 'SLUICE_MODELS',
    default: 'Xenova/all-MiniLM-L6-v2',
    parse: list(
      pattern(
        /^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$/,
        'a model name such as Xenova/all-MiniLM-L6-v2',
      ),
    ),
    doc: 'Embedding models, comma-separated (folders under SLUICE_MODELS_DIR or Hugging Face ids); the first is the default for new collections.',
  }),
  modelDtype: opt({
    env: 'SLUICE_MODEL_DTYPE',
    default: 'auto',
    parse: oneOf('auto', 'q8', 'fp32'),
    doc: 'Which ONNX file to run: q8 (onnx/model_quantized.onnx), fp32 (onnx/model.onnx), or auto (q8 when present).',
  }),
  embedProvider: opt({
    env: 'SLUICE_EMBED_PROVIDER',
    default: 'auto',
    parse: oneOf('auto', 'cpu', 'cuda'),
    doc: 'onnxruntime execution provider; auto tries CUDA and falls back to CPU with one log line.',
  }),
  embedThreads: opt({
    env: 'SLUICE_EMBED_THREADS',
    default: '0',
    parse: int(0, 256),
    doc: 'onnxruntime intra-op threads (0: one per core).',
  }),
  embedBatchSize: opt({
    env: 'SLUICE_EMBED_BATCH',
    default: '8',
    parse: int(1, 1024),
    doc: 'Chunks per onnxruntime run, sorted by length first. 8 and 32 kept the same pace here, and 8 peaked 250 MB lower (bench/README.md).',
  }),
  embedBatchWait: opt({
    env: 'SLUICE_EMBED_BATCH_WAIT',
    default: '50ms',
    parse: duration,
    doc: 'How long the embedder waits to fill a batch across messages before it runs a smaller one.',
  }),
  ackWait: opt({
    env: 'SLUICE_ACK_WAIT',
    default: '30s',
    parse: duration,
    doc: 'How long a delivered message may stay unacknowledged before it is redelivered (long batches send working()).',
  }),
  publishDeadline: opt({
    env: 'SLUICE_PUBLISH_DEADLINE',
    default: '30s',
    parse: duration,
    doc: "How long a stage retries one publish through elections and restarts. Past it the publish fails as NATS_UNAVAILABLE: the stage's consumers hold their batch, attempts unspent, until NATS and the stream's leader answer again (docs/architecture.md, Outages).",
  }),
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
  handlerTimeout: opt({
    env: 'SLUICE_HANDLER_TIMEOUT',
    default: '5m',
    parse: duration,
    doc: 'Longest a stage may work on one batch; past it the batch fails with HANDLER_TIMEOUT (retried) instead of being kept alive for ever.',
  }),
  quickRetries: opt({
    env: 'SLUICE_RETRY_QUICK',
    default: '3',
    parse: int(0, 20),
    doc: 'Quick redeliveries (nak with backoff from 500 ms) before a failing message is parked in the retry stream.',
  }),
  retryBackoff: opt({
    env: 'SLUICE_RETRY_BACKOFF',
    default: '5s',
    parse: duration,
    doc: 'First wait of a parked message, doubled on each attempt up to 10 minutes.',
  }),
  maxAttempts: opt({
    env: 'SLUICE_RETRY_MAX_ATTEMPTS',
    default: '8',
    parse: int(1, 100),
    doc: 'Attempts in all (quick and parked) before a message is dead-lettered.',
  }),
  replayBatch: opt({
    env: 'SLUICE_REPLAY_BATCH',
    default: '500',
    parse: int(1, 10_000),
    doc: 'Messages per transaction when a replay rebuilds a projection.',
  }),
  modelsDir: opt({
    env: 'SLUICE_MODELS_DIR',
    default: './models',
    parse: str,
    doc: 'Folder of embedding models (one subfolder per model, Hugging Face layout).',
  }),
  allowRemoteModels: opt({
    env: 'SLUICE_ALLOW_REMOTE_MODELS',
    default: 'false',
    parse: bool,
    doc: 'Download missing models from the Hugging Face hub into SLUICE_MODELS_DIR.',
  }),
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
  chunkMaxTokens: opt({
    env: 'SLUICE_CHUNK_MAX_TOKENS',
    default: '0',
    parse: int(0, 8192),
    doc: "Most tokens in a chunk, headings included (0: the model's limit, less its special tokens).",
  }),
  chunkOverlapTokens: opt({
    env: 'SLUICE_CHUNK_OVERLAP_TOKENS',
    default: '32',
    parse: int(0, 1024),
    doc: 'Tokens of the previous chunk repeated at the start of the next (whole sentences where they fit).',
  }),
};

export type ConfigSpec = typeof configSpec;
export type Config = {
  -readonly [K in keyof ConfigSpec]: ConfigSpec[K] extends OptionSpec<infer T> ? T : never;
};

type Env = Record<string, string | undefined>;

/**
 * Parses and validates the whole configuration at once; every problem is reported
 * together in one CONFIG_INVALID error naming the variables.
 */
export function loadConfig(env: Env = process.env, overrides: Partial<Config> = {}): Config {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, spec] of Object.entries(configSpec) as [string, OptionSpec<unknown>][]) {
    if (key in overrides) {
      out[key] = (overrides as Record<string, unknown>)[key];
      continue;
    }
    const raw = env[spec.env] ?? spec.default;
    if (raw === undefined) {
      problems.push(`${spec.env} is required: ${spec.doc}`);
      continue;
    }
    try {
      out[key] = spec.parse(raw);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      problems.push(`${spec.env}: ${spec.secret ? redact(why) : why}`);
    }
  }
  if (problems.length > 0) {
    throw new SluiceError('CONFIG_INVALID', `invalid configuration:\n  ${problems.join('\n  ')}`, {
      details: { problems },
    });
  }
  return out as Config;
}

/** The configuration with secrets redacted, for `sluice config` and start-up logs. */
export function describeConfig(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(configSpec) as [keyof Config, OptionSpec<unknown>][]) {
    const v = config[key];
    // A secret that is not a URL (an API key) is hidden whole.
    out[spec.env] = !spec.secret
      ? v
      : (typeof v === 'string' && v !== '' && !v.includes('//')) ||
          (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length > 0)
        ? '***'
        : JSON.parse(redact(JSON.stringify(v)));
  }
  return out;
}
