import type { Sql } from '../db/index.js';

/** Records the highest sequence applied from a stream, in the caller's transaction. */
export async function saveCheckpoint(
  tx: Sql,
  table: string,
  stream: string,
  seq: number,
): Promise<void> {
  await tx`
    INSERT INTO ${tx(table)} (stream, seq) VALUES (${stream}, ${seq})
    ON CONFLICT (stream) DO UPDATE SET seq = GREATEST(${tx(table)}.seq, EXCLUDED.seq), updated_at = now()`;
}

export async function readCheckpoints(sql: Sql, table: string): Promise<Record<string, number>> {
  const rows = await sql<{ stream: string; seq: string }[]>`SELECT stream, seq FROM ${sql(table)}`;
  return Object.fromEntries(rows.map((r) => [r.stream, Number(r.seq)]));
}
