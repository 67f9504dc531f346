import type { Sql } from '../../db/index.js';

export interface ChunkRow {
  modelId: string;
  chunkIndex: number;
  version: number;
  text: string;
  headings: string[];
  /** Pages of a paged file the chunk comes from (empty otherwise). */
  pages: number[];
}

/** A document's chunks as each model's index holds them, in order (at most `limit`). */
export async function documentChunks(
  sql: Sql,
  ref: { tenant: string; collection: string; documentId: string },
  limit = 500,
): Promise<ChunkRow[]> {
  const rows = await sql<
    {
      model_id: string;
      chunk_index: number;
      version: string;
      text: string;
      headings: string[];
      pages: number[];
    }[]
  >`
    SELECT model_id, chunk_index, version, text, headings, pages FROM index_chunks
    WHERE tenant = ${ref.tenant} AND collection = ${ref.collection} AND document_id = ${ref.documentId}
    ORDER BY model_id, chunk_index LIMIT ${limit}`;
  return rows.map((r) => ({
    modelId: r.model_id,
    chunkIndex: r.chunk_index,
    version: Number(r.version),
    text: r.text,
    headings: r.headings,
    pages: r.pages,
  }));
}
