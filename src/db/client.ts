import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';

export type Sql = postgres.Sql;
export type Db = PostgresJsDatabase;

export interface Database {
  sql: Sql;
  db: Db;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  url: string;
  /** Pool size. @defaultValue 10 */
  max?: number;
  /** Shown in pg_stat_activity. @defaultValue 'sluice' */
  applicationName?: string;
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
    connection: { application_name: options.applicationName ?? 'sluice', ...options.settings },
  });
  const db = drizzle(sql);
  return { sql, db, close: () => sql.end({ timeout: 5 }) };
}
