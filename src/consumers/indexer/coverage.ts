import type { Sql } from '../../db/index.js';
import { indexTables } from './index-tables.js';

/**
 * Documents each model's index holds complete, per collection of a tenant, from the
 * counter the indexer keeps (one query, whatever the number of documents): collection →
 * model id → documents.
 */
export async function coverageCounts(
  sql: Sql,
  tenant: string,
): Promise<Map<string, Map<string, number>>> {
  const rows = await sql<{ collection: string; model_id: string; documents: number }[]>`
    SELECT collection, model_id, documents FROM ${sql(indexTables.coverage)} WHERE tenant = ${tenant}`;
  const out = new Map<string, Map<string, number>>();
  for (const r of rows) {
    const byModel = out.get(r.collection) ?? new Map<string, number>();
    byModel.set(r.model_id, r.documents);
    out.set(r.collection, byModel);
  }
  return out;
}
