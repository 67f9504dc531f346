import { SluiceError } from '../errors/index.js';
import type { Sql } from './client.js';

/**
 * Shadow tables for replays. A projection's tables are rebuilt in a schema of their
 * own, with the same table, constraint and index names as the live ones (names are
 * per schema), then swapped in by moving tables between schemas in one transaction:
 *
 *   public.t              → sluice_prev_<p>.t     (kept for rollback until dropped)
 *   sluice_replay_<p>.t   → public.t
 *
 * Nothing is renamed, so migrations and code keep finding the names they know.
 */

export const LIVE = 'public';
export const shadowSchema = (projection: string): string => `sluice_replay_${projection}`;
export const previousSchema = (projection: string): string => `sluice_prev_${projection}`;

const q = (id: string): string => `"${id.replace(/"/g, '""')}"`;

async function tableExists(sql: Sql, schema: string, table: string): Promise<boolean> {
  const [row] =
    await sql`SELECT 1 FROM pg_tables WHERE schemaname = ${schema} AND tablename = ${table}`;
  return row !== undefined;
}

export async function shadowExists(
  sql: Sql,
  projection: string,
  tables: string[],
): Promise<boolean> {
  for (const t of tables) if (!(await tableExists(sql, shadowSchema(projection), t))) return false;
  return true;
}

export async function previousExists(
  sql: Sql,
  projection: string,
  tables: string[],
): Promise<boolean> {
  for (const t of tables) if (await tableExists(sql, previousSchema(projection), t)) return true;
  return false;
}

/** Secondary index definitions of a live table, re-targeted at another schema. */
async function secondaryIndexes(sql: Sql, table: string, schema: string): Promise<string[]> {
  const rows = await sql<{ def: string }[]>`
    SELECT pg_get_indexdef(i.indexrelid) AS def FROM pg_index i
    JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ${LIVE} AND c.relname = ${table} AND NOT i.indisprimary`;
  return rows.map((r) =>
    r.def
      .replace(` ON ${LIVE}.${table} `, ` ON ${q(schema)}.${q(table)} `)
      .replace(` ON ${LIVE}.${q(table)} `, ` ON ${q(schema)}.${q(table)} `),
  );
}

/**
 * Empty copies of the live tables in the shadow schema, with their primary keys (upserts
 * need them). Secondary indexes come later (finishShadow): loading first and indexing
 * once is several times faster, for HNSW most of all.
 */
export async function createShadow(sql: Sql, projection: string, tables: string[]): Promise<void> {
  const schema = shadowSchema(projection);
  await sql.begin(async (tx) => {
    await tx.unsafe(`DROP SCHEMA IF EXISTS ${q(schema)} CASCADE`);
    await tx.unsafe(`CREATE SCHEMA ${q(schema)}`);
    for (const t of tables) {
      await tx.unsafe(
        `CREATE TABLE ${q(schema)}.${q(t)} (LIKE ${LIVE}.${q(t)} INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING STORAGE)`,
      );
      const [pk] = await tx<{ name: string; def: string }[]>`
        SELECT conname AS name, pg_get_constraintdef(c.oid) AS def FROM pg_constraint c
        JOIN pg_class r ON r.oid = c.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace
        WHERE n.nspname = ${LIVE} AND r.relname = ${t} AND c.contype = 'p'`;
      if (pk)
        await tx.unsafe(`ALTER TABLE ${q(schema)}.${q(t)} ADD CONSTRAINT ${q(pk.name)} ${pk.def}`);
    }
  });
}

/**
 * Copies the live rows into the shadow tables, for a replay from a point: it re-applies
 * the events from there over what the live tables hold, instead of swapping in tables
 * that know only those events. (Projections are version-fenced and idempotent.)
 */
export async function seedShadow(sql: Sql, projection: string, tables: string[]): Promise<void> {
  const schema = shadowSchema(projection);
  for (const t of tables) {
    const columns = await sql<{ name: string }[]>`
      SELECT column_name AS name FROM information_schema.columns
      WHERE table_schema = ${LIVE} AND table_name = ${t} AND is_generated = 'NEVER'
      ORDER BY ordinal_position`;
    const list = columns.map((c) => q(c.name)).join(', ');
    // A copy of a whole live table outlasts any statement_timeout meant for a query.
    await sql.begin(async (tx) => {
      await tx.unsafe(`SET LOCAL statement_timeout = 0`);
      await tx.unsafe(
        `INSERT INTO ${q(schema)}.${q(t)} (${list}) SELECT ${list} FROM ${LIVE}.${q(t)}`,
      );
    });
  }
}

/** The live tables' secondary indexes, built once on the loaded shadow tables. */
export async function finishShadow(
  sql: Sql,
  projection: string,
  tables: string[],
  extra: string[] = [],
): Promise<void> {
  const schema = shadowSchema(projection);
  // One connection of the pool for all of it: a SET on the pool lands on any connection.
  const c = await sql.reserve();
  try {
    // Memory to sort in (an HNSW build that outgrows it slows down several times); the
    // builds use the server's parallel maintenance workers (2 by default).
    await c.unsafe(`SET maintenance_work_mem = '512MB'`);
    // Index builds on a full shadow outlast any statement_timeout meant for a query.
    await c.unsafe(`SET statement_timeout = 0`);
    for (const t of tables)
      for (const def of await secondaryIndexes(c, t, schema))
        await c.unsafe(def.replace(/^CREATE INDEX /, 'CREATE INDEX IF NOT EXISTS '));
    for (const def of extra) await c.unsafe(def);
    for (const t of tables) await c.unsafe(`ANALYZE ${q(schema)}.${q(t)}`);
  } finally {
    await c.unsafe(`RESET maintenance_work_mem`).catch(() => {});
    await c.unsafe(`RESET statement_timeout`).catch(() => {});
    c.release();
  }
}

/**
 * Moves the shadow tables in and the live ones aside, atomically. Readers wait for the
 * lock a moment and then see the new tables; none fails. Refuses while earlier
 * previous tables exist, unless told to drop them.
 */
export async function swapIn(
  sql: Sql,
  projection: string,
  tables: string[],
  dropPrevious: boolean,
  /** Runs in the swap's transaction (a replay records its phase there). */
  alsoInTx?: (tx: Sql) => Promise<unknown>,
): Promise<void> {
  const shadow = shadowSchema(projection);
  const prev = previousSchema(projection);
  await swapLocked(sql, tables, async (tx) => {
    if (dropPrevious) await tx.unsafe(`DROP SCHEMA IF EXISTS ${q(prev)} CASCADE`);
    await tx.unsafe(`CREATE SCHEMA IF NOT EXISTS ${q(prev)}`);
    for (const t of tables) {
      await tx.unsafe(`ALTER TABLE ${LIVE}.${q(t)} SET SCHEMA ${q(prev)}`);
      await tx.unsafe(`ALTER TABLE ${q(shadow)}.${q(t)} SET SCHEMA ${LIVE}`);
    }
    await tx.unsafe(`DROP SCHEMA ${q(shadow)}`);
    await alsoInTx?.(tx);
  });
}

/** How long a swap waits for the live tables' lock before it gives up (and is retried). */
export const SWAP_LOCK_TIMEOUT = '5s';

/**
 * Runs a swap in a transaction holding the live tables exclusively. lock_timeout bounds
 * the wait: a long query on the tables makes the swap fail with SWAP_BUSY rather than
 * queue every reader behind it for as long as the query runs.
 */
async function swapLocked(
  sql: Sql,
  tables: string[],
  work: (tx: Sql) => Promise<void>,
): Promise<void> {
  try {
    await sql.begin(async (txn) => {
      const tx = txn as unknown as Sql;
      await tx.unsafe(`SET LOCAL lock_timeout = '${SWAP_LOCK_TIMEOUT}'`);
      await tx.unsafe(
        `LOCK TABLE ${tables.map((t) => `${LIVE}.${q(t)}`).join(', ')} IN ACCESS EXCLUSIVE MODE`,
      );
      await work(tx);
    });
  } catch (err) {
    if ((err as { code?: string }).code === '55P03')
      throw new SluiceError(
        'SWAP_BUSY',
        `the live tables stayed locked by other sessions for ${SWAP_LOCK_TIMEOUT}; the swap was not made`,
        { cause: err },
      );
    throw err;
  }
}

/** Puts the previous tables back and the current ones aside (itself undone by another rollback). */
export async function rollback(sql: Sql, projection: string, tables: string[]): Promise<void> {
  const prev = previousSchema(projection);
  const aside = `${prev}_swap`;
  await swapLocked(sql, tables, async (tx) => {
    await tx.unsafe(`CREATE SCHEMA ${q(aside)}`);
    for (const t of tables) {
      await tx.unsafe(`ALTER TABLE ${LIVE}.${q(t)} SET SCHEMA ${q(aside)}`);
      await tx.unsafe(`ALTER TABLE ${q(prev)}.${q(t)} SET SCHEMA ${LIVE}`);
      await tx.unsafe(`ALTER TABLE ${q(aside)}.${q(t)} SET SCHEMA ${q(prev)}`);
    }
    await tx.unsafe(`DROP SCHEMA ${q(aside)}`);
  });
}

export async function dropPrevious(sql: Sql, projection: string): Promise<void> {
  await sql.unsafe(`DROP SCHEMA IF EXISTS ${q(previousSchema(projection))} CASCADE`);
}

export async function dropShadow(sql: Sql, projection: string): Promise<void> {
  await sql.unsafe(`DROP SCHEMA IF EXISTS ${q(shadowSchema(projection))} CASCADE`);
}

/** A table of a schema as the stores take it: qualified unless live. */
export function qualified(schema: string, table: string): string {
  return schema === LIVE ? table : `${schema}.${table}`;
}

/** A table name as `qualified` gives it, quoted for SQL: "schema"."table" or "table". */
export const quotedName = (table: string): string =>
  table
    .split('.')
    .map((p) => `"${p}"`)
    .join('.');

/** A record of table names, each qualified with `schema` (see qualified). */
export const tablesIn = <T extends object>(t: T, schema: string): T =>
  Object.fromEntries(
    Object.entries(t as Record<string, string>).map(([k, v]) => [k, qualified(schema, v)]),
  ) as T;
