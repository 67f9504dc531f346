import type { Sql } from '../../db/index.js';
import { collectionsTables } from '../tables.js';

export interface CollectionView {
  name: string;
  documentCount: number;
  chunkCount: number;
  bytes: number;
  lastEventAt: string | null;
}

export async function listCollections(sql: Sql, tenant: string): Promise<CollectionView[]> {
  const rows = await sql<
    {
      collection: string;
      document_count: number;
      chunk_count: string;
      bytes: string;
      last_event_at: Date | string | null;
    }[]
  >`
    SELECT collection, document_count, chunk_count, bytes, last_event_at FROM ${sql(collectionsTables.collections)}
    WHERE tenant = ${tenant} ORDER BY collection`;
  return rows.map((r) => ({
    name: r.collection,
    documentCount: r.document_count,
    chunkCount: Number(r.chunk_count),
    bytes: Number(r.bytes),
    lastEventAt: r.last_event_at === null ? null : new Date(r.last_event_at).toISOString(),
  }));
}

export async function collectionExists(
  sql: Sql,
  tenant: string,
  collection: string,
): Promise<boolean> {
  const [row] = await sql`
    SELECT 1 FROM ${sql(collectionsTables.collections)} WHERE tenant = ${tenant} AND collection = ${collection}`;
  return row !== undefined;
}
