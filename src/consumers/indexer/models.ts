import type { Sql } from '../../db/index.js';
import { hnswIndexName } from './hnsw-index.js';

/**
 * What the indexer's tables hold per embedding model: the model's own questions about
 * its index, answered here so that no other module reads the index tables.
 */

/** Documents (live, at a version) and chunks each model's index holds, by model name. */
export async function indexedPerModel(
  sql: Sql,
): Promise<{ model: string; documents: number; chunks: number }[]> {
  return sql<{ model: string; documents: number; chunks: number }[]>`
    SELECT d.model, d.documents, coalesce(c.chunks, 0)::int AS chunks FROM
      (SELECT split_part(model_id, '@', 1) AS model,
              count(*) FILTER (WHERE NOT deleted AND version > 0)::int AS documents
       FROM index_documents GROUP BY 1) d
    LEFT JOIN (SELECT split_part(model_id, '@', 1) AS model, count(*) AS chunks FROM index_chunks GROUP BY 1) c
      USING (model)
    ORDER BY d.model`;
}

/**
 * Drops a model's index: the HNSW index of each of its files, then its rows (vectors,
 * documents, keyword postings). Returns how many chunks were removed.
 */
export async function dropModelIndex(sql: Sql, model: string): Promise<number> {
  const ids = await sql<
    { model_id: string }[]
  >`SELECT DISTINCT model_id FROM index_documents WHERE model_id LIKE ${`${model}@%`}`;
  for (const { model_id } of ids)
    await sql.unsafe(`DROP INDEX IF EXISTS ${hnswIndexName(model_id)}`);
  return dropModelRows(sql, `${model}@%`);
}
/**
 * Deletes every row of the models whose id is LIKE `pattern` (vector and keyword index,
 * coverage),
 * for `sluice models retire`. Returns the chunk rows deleted.
 */
export async function dropModelRows(sql: Sql, pattern: string): Promise<number> {
  return sql.begin(async (txn) => {
    const tx = txn as unknown as Sql;
    const scopes = tx`SELECT scope FROM keyword_scopes WHERE model_id LIKE ${pattern}`;
    await tx`DELETE FROM keyword_postings WHERE scope IN (${scopes})`;
    await tx`DELETE FROM keyword_terms WHERE scope IN (${scopes})`;
    await tx`DELETE FROM keyword_scopes WHERE model_id LIKE ${pattern}`;
    await tx`DELETE FROM index_coverage WHERE model_id LIKE ${pattern}`;
    const chunks = await tx`DELETE FROM index_chunks WHERE model_id LIKE ${pattern}`;
    await tx`DELETE FROM index_documents WHERE model_id LIKE ${pattern}`;
    return chunks.count;
  });
}
