import postgres from 'postgres';
import { inject } from 'vitest';
import { createDatabase, type Database } from '../../src/db/index.js';
import { adminUrl } from './global-setup.js';
import { randomToken } from './names.js';

export interface TestDatabase extends Database {
  url: string;
  name: string;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

/**
 * A database of its own for one test file, cloned from the migrated template (fast:
 * a file copy, no migrations to run), with synchronous_commit off for speed.
 */
export async function createTestDatabase(
  databaseUrl = inject('databaseUrl'),
): Promise<TestDatabase> {
  const name = `sluice_test_${Math.floor(Date.now() / 1000)}_${randomToken(6)}`;
  const admin = postgres(adminUrl(databaseUrl), { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE DATABASE "${name}" TEMPLATE "${inject('templateDatabase')}"`);
    await admin.unsafe(`ALTER DATABASE "${name}" SET synchronous_commit = off`);
  } finally {
    await admin.end();
  }
  const u = new URL(databaseUrl);
  u.pathname = `/${name}`;
  const url = u.toString();
  const database = createDatabase({ url, max: 10, applicationName: 'sluice-test' });
  return {
    ...database,
    url,
    name,
    async drop() {
      await database.close();
      const a = postgres(adminUrl(databaseUrl), { max: 1, onnotice: () => {} });
      try {
        await a.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await a.end();
      }
    },
  };
}
