import type { Sql } from '../../src/db/index.js';

/** Order of rows per table: their primary key. */
export const tableOrder: Record<string, string> = {
  proj_documents: 'tenant, collection, document_id',
  proj_documents_checkpoints: 'stream',
  proj_collections: 'tenant, collection',
  proj_collection_docs: 'tenant, collection, document_id',
  proj_collections_checkpoints: 'stream',
  index_documents: 'model_id, tenant, collection, document_id',
  index_chunks: 'model_id, tenant, collection, document_id, chunk_index',
  index_coverage: 'tenant, collection, model_id',
  keyword_scopes: 'scope',
  keyword_terms: 'scope, term',
  keyword_postings: 'scope, term, document_id, chunk_index',
};

/**
 * A checksum of a table's rows, ignoring when they were written (updated_at), for
 * checkpoints how far they got (a replay reads further than the live consumer may have),
 * for keyword postings their impact: an ordering hint computed with the average
 * length at write time, which depends on the order rows arrived (scores are exact),
 * for keyword scopes the smallest such average (impact_avg), for the same reason, and
 * for keyword terms their generation (gen): a number that only says the postings changed.
 */
export async function checksum(sql: Sql, table: string, schema = 'public'): Promise<string> {
  const drop = table.endsWith('_checkpoints')
    ? `- 'updated_at' - 'seq'`
    : table === 'keyword_postings'
      ? `- 'impact'`
      : table === 'keyword_scopes'
        ? `- 'impact_avg'`
        : table === 'keyword_terms'
          ? `- 'gen'`
          : `- 'updated_at'`;
  const [row] = await sql.unsafe<{ sum: string; n: number }[]>(
    `SELECT md5(coalesce(string_agg((to_jsonb(t) ${drop})::text, '|' ORDER BY ${tableOrder[table]}), '')) AS sum, count(*)::int AS n FROM "${schema}"."${table}" t`,
  );
  return `${row!.n}:${row!.sum}`;
}
