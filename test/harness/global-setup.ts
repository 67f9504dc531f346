import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import type { TestProject } from 'vitest/node';
import { createDatabase, runMigrations } from '../../src/db/index.js';
import { migrationsDir } from '../../src/paths.js';
import { buildSluice } from './build.js';
import { infra, parseExports } from './shell.js';

declare module 'vitest' {
  export interface ProvidedContext {
    natsUrl: string;
    databaseUrl: string;
    templateDatabase: string;
    natsServerBin: string;
    /** The CLI's entry in the transpiled sources (`build.ts`). */
    sluiceEntry: string;
  }
}

/** Databases made by tests are named sluice_test_<unix seconds>_<random>. */
const STALE_AFTER_S = 6 * 3600;

function migrationsHash(): string {
  const h = createHash('sha256');
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else h.update(e.name).update(readFileSync(p));
    }
  };
  walk(migrationsDir);
  return h.digest('hex').slice(0, 12);
}

export function adminUrl(databaseUrl: string): string {
  const u = new URL(databaseUrl);
  u.pathname = '/postgres';
  return u.toString();
}

/**
 * Brings NATS and Postgres up through infra/local/up (the same path a user takes), or
 * uses TEST_NATS_URL / TEST_DATABASE_URL, and prepares a migrated template database
 * from which each test file clones its own.
 */
export default async function setup(project: TestProject): Promise<void> {
  let natsUrl = process.env.TEST_NATS_URL;
  let databaseUrl = process.env.TEST_DATABASE_URL;
  if (natsUrl === undefined || databaseUrl === undefined) {
    const out = parseExports(
      await infra('up', [], { NATS_URL: natsUrl, DATABASE_URL: databaseUrl }),
    );
    natsUrl ??= out.NATS_URL;
    databaseUrl ??= out.DATABASE_URL;
  }
  if (!natsUrl || !databaseUrl) throw new Error('infra/local/up printed no NATS_URL/DATABASE_URL');
  const natsServerBin = process.env.SLUICE_NATS_SERVER ?? (await infra('nats-server')).trim();

  const template = `sluice_tpl_${migrationsHash()}`;
  const admin = postgres(adminUrl(databaseUrl), { max: 1, onnotice: () => {} });
  try {
    await admin`SELECT pg_advisory_lock(4242)`;
    const now = Math.floor(Date.now() / 1000);
    // A template's comment holds when it was built: another checkout (another branch,
    // other migrations) may be using its own template on the same server right now, so
    // a template is dropped only once it is as stale as a test database.
    for (const { datname, built } of await admin<{ datname: string; built: string | null }[]>`
      SELECT datname, shobj_description(oid, 'pg_database') AS built FROM pg_database
      WHERE datname LIKE 'sluice\_test\_%' OR datname LIKE 'sluice\_tpl\_%'`) {
      const born = datname.startsWith('sluice_tpl_')
        ? Number(built ?? 0)
        : Number(/^sluice_test_(\d+)_/.exec(datname)?.[1] ?? now);
      if (datname !== template && now - born > STALE_AFTER_S) {
        await admin.unsafe(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
      }
    }
    const [exists] = await admin`SELECT 1 FROM pg_database WHERE datname = ${template}`;
    if (!exists) {
      const building = `${template}_build`;
      await admin.unsafe(`DROP DATABASE IF EXISTS "${building}" WITH (FORCE)`);
      await admin.unsafe(`CREATE DATABASE "${building}"`);
      const u = new URL(databaseUrl);
      u.pathname = `/${building}`;
      const db = createDatabase({ url: u.toString(), max: 2 });
      try {
        await runMigrations(db);
      } finally {
        await db.close();
      }
      await admin.unsafe(`ALTER DATABASE "${building}" RENAME TO "${template}"`);
      await admin.unsafe(`COMMENT ON DATABASE "${template}" IS '${now}'`);
    }
  } finally {
    await admin`SELECT pg_advisory_unlock(4242)`.catch(() => {});
    await admin.end();
  }

  project.provide('natsUrl', natsUrl);
  project.provide('databaseUrl', databaseUrl);
  project.provide('templateDatabase', template);
  project.provide('natsServerBin', natsServerBin);
  project.provide('sluiceEntry', await buildSluice());
}
