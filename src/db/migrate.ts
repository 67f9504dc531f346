import { migrate } from 'drizzle-orm/postgres-js/migrator';
import { SluiceError } from '../errors/index.js';
import { migrationsDir } from '../paths.js';
import { createDatabase, type Database } from './client.js';

/** Arbitrary constant: the advisory lock that serialises migrations across processes. */
const MIGRATION_LOCK = 0x511ce;

/**
 * Applies drizzle's migrations. Several processes may start at once (one per role);
 * an advisory lock lets one migrate while the others wait and then find nothing to do.
 * They run on a small pool of their own with no statement_timeout: waiting for the
 * lock, or building an index on a large table, may take longer than any query should.
 */
export async function runMigrations(database: Database, folder = migrationsDir): Promise<void> {
  const own = createDatabase({
    ...database.options,
    max: 2,
    statementTimeoutMs: 0,
    settings: { ...database.options.settings, statement_timeout: '0' },
  });
  try {
    await migrateWith(own, folder);
  } finally {
    await own.close();
  }
}

async function migrateWith(database: Database, folder: string): Promise<void> {
  const lock = await database.sql.reserve();
  try {
    await lock`SELECT pg_advisory_lock(${MIGRATION_LOCK})`;
    await migrate(database.db, { migrationsFolder: folder });
  } catch (err) {
    if (
      /extension "vector" is not available|could not open extension control file/.test(String(err))
    ) {
      throw new SluiceError(
        'DB_EXTENSION_MISSING',
        'PostgreSQL has no pgvector extension: install pgvector >= 0.8 on the server (Debian: postgresql-17-pgvector), or use infra/local/up',
        { cause: err },
      );
    }
    throw err;
  } finally {
    await lock`SELECT pg_advisory_unlock(${MIGRATION_LOCK})`.catch(() => {});
    lock.release();
  }
}
