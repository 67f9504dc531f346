import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/harness/database.js';
import { createDatabase, DEFAULT_STATEMENT_TIMEOUT_MS, type Database } from './client.js';
import { runMigrations } from './migrate.js';

/**
 * Every pool sets statement_timeout: a statement that runs past it is cancelled by
 * PostgreSQL (SQLSTATE 57014) instead of holding its connection, and the migrations,
 * which may wait on a lock or build an index for long, run on a pool without one.
 */
describe('statement_timeout on every pool', () => {
  let db: TestDatabase;
  const pools: Database[] = [];
  const pool = (o: { statementTimeoutMs?: number; settings?: Record<string, string> }) => {
    const p = createDatabase({ url: db.url, max: 2, ...o });
    pools.push(p);
    return p;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    for (const p of pools) await p.close();
    await db?.drop();
  });

  it('cancels a statement that runs past the pool’s timeout, with a clear error', async () => {
    const short = pool({ statementTimeoutMs: 200 });
    const started = Date.now();
    const err = await short.sql`SELECT pg_sleep(30)`.then(
      () => undefined,
      (e: unknown) => e as { code?: string; message?: string },
    );
    const tookMs = Date.now() - started;
    console.log(`pg_sleep(30) on a pool with statement_timeout 200 ms ended after ${tookMs} ms`);
    expect(err?.code).toBe('57014');
    expect(err?.message).toMatch(/statement timeout/);
    // Cancelled by the timeout, not run to its end: 30 s is 150 times the timeout.
    expect(tookMs).toBeLessThan(15_000);
    // The connection is usable again.
    expect((await short.sql<{ n: number }[]>`SELECT 1 AS n`)[0]!.n).toBe(1);
  });

  it('sets the default on a pool that names none, and lets settings or 0 override it', async () => {
    const show = async (d: Database) =>
      (await d.sql<{ statement_timeout: string }[]>`SHOW statement_timeout`)[0]!.statement_timeout;
    expect(DEFAULT_STATEMENT_TIMEOUT_MS).toBe(300_000);
    expect(await show(pool({}))).toBe('5min');
    expect(await show(pool({ statementTimeoutMs: 0 }))).toBe('0');
    expect(await show(pool({ settings: { statement_timeout: '10s' } }))).toBe('10s');
  });

  it('runs migrations without the pool’s timeout', async () => {
    // A timeout shorter than taking the migration lock and reading the journal: the
    // migrations still pass, since they run on a pool of their own with none.
    const tiny = pool({ statementTimeoutMs: 1 });
    const holder = await db.sql.reserve();
    await holder`SELECT pg_advisory_lock(${0x511ce})`;
    const migrating = runMigrations(tiny);
    // The lock is held here for longer than the timeout: a bounded wait would fail.
    await new Promise((r) => setTimeout(r, 300));
    await holder`SELECT pg_advisory_unlock(${0x511ce})`;
    holder.release();
    await expect(migrating).resolves.toBeUndefined();
  });
});
