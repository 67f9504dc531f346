import { duration, list, oneOf, pattern, url } from './options.js';
import { opt } from './option-spec.js';
import { roleNames } from './roles.js';

/** The process: servers it connects to, its namespace and roles, its logs. */
export const processOptions = {
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
  dbStatementTimeout: opt({
    env: 'SLUICE_DB_STATEMENT_TIMEOUT',
    default: '5m',
    parse: duration,
    doc: "Longest any statement of the roles' PostgreSQL pools may run (statement_timeout), as long as SLUICE_HANDLER_TIMEOUT by default so no statement outlives its batch; 0 for none. Migrations, index builds (HNSW, keyword rebuilds, replay's shadow indexes) and replay's copy of the live tables run without it; the HTTP API's queries have SLUICE_STATEMENT_TIMEOUT instead.",
  }),
};
