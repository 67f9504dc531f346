import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';

export type Sql = postgres.Sql;
/**
 * A query one module builds over its own tables for another to use as a subquery: the
 * database joins them, and each module's SQL names only its own tables.
 */
export type SqlFragment = postgres.PendingQuery<postgres.Row[]>;
export type Db = PostgresJsDatabase;

export interface Database {
  sql: Sql;
  db: Db;
  /** What the pool was made with (a sibling pool, e.g. for migrations, starts from it). */
  options: DatabaseOptions;
  close(): Promise<void>;
}

/**
 * The statement_timeout of a pool that names none: as long as the default
 * SLUICE_HANDLER_TIMEOUT, so no statement outlives the batch that issued it, and a
 * statement stuck behind a lock or running away ends with SQLSTATE 57014 instead of
 * holding its connection for ever.
 */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 300_000;

export interface DatabaseOptions {
  url: string;
  /** Pool size. @defaultValue 10 */
  max?: number;
  /** Shown in pg_stat_activity. @defaultValue 'sluice' */
  applicationName?: string;
  /**
   * PostgreSQL's statement_timeout on every connection of the pool, in milliseconds; 0
   * for none (migrations, index builds). A `statement_timeout` in `settings` wins.
   * @defaultValue DEFAULT_STATEMENT_TIMEOUT_MS (5 minutes)
   */
  statementTimeoutMs?: number;
  /** Session settings sent when connecting (e.g. hnsw.ef_search). */
  settings?: Record<string, string>;
}

/** A postgres.js pool and a drizzle handle over it. */
export function createDatabase(options: DatabaseOptions): Database {
  const sql = postgres(options.url, {
    max: options.max ?? 10,
    idle_timeout: 30,
    connect_timeout: 10,
    onnotice: () => {},
    connection: {
      application_name: options.applicationName ?? 'sluice',
      statement_timeout: options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS,
      ...options.settings,
    },
  });
  const db = drizzle(sql);
  return { sql, db, options, close: () => sql.end({ timeout: 5 }) };
}
