import type { Sql, SqlFragment } from '../../db/index.js';
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

export interface ModelCoverage {
  /** Documents of the collection (not deleted) in the documents read model. */
  documents: number;
  /** Of those, how many the model's index has at their current version. */
  indexed: number;
}

/**
 * How much of a collection a model's index covers (name: any file of that model): of
 * `documents` (a subquery of `document_id, version`, from the documents read model),
 * how many the index holds complete at that version. The exact scan activation checks.
 */
export async function modelCoverage(
  sql: Sql,
  tenant: string,
  collection: string,
  model: string,
  documents: SqlFragment,
): Promise<ModelCoverage> {
  const [row] = await sql<{ documents: number; indexed: number }[]>`
    SELECT count(*)::int AS documents,
           count(i.document_id)::int AS indexed
    FROM (${documents}) d
    LEFT JOIN index_documents i
      ON i.tenant = ${tenant} AND i.collection = ${collection} AND i.document_id = d.document_id
     AND i.model_id LIKE ${`${model}@%`} AND i.version = d.version AND NOT i.deleted AND i.chunk_count = (
       SELECT count(*) FROM index_chunks c WHERE c.model_id = i.model_id AND c.tenant = i.tenant
         AND c.collection = i.collection AND c.document_id = i.document_id)`;
  return row!;
}
