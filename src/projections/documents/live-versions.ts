import type { Sql, SqlFragment } from '../../db/index.js';

/**
 * The (document_id, version) of a collection's documents that are not deleted, as a
 * subquery: what another module (the indexer's coverage) joins its own tables against,
 * so that it never reads the documents read model itself.
 */
export function liveDocumentVersions(sql: Sql, tenant: string, collection: string): SqlFragment {
  return sql`
    SELECT document_id, version FROM proj_documents
    WHERE tenant = ${tenant} AND collection = ${collection} AND status <> 'deleted' AND version > 0`;
}
