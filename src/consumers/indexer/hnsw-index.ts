import { createHash } from 'node:crypto';
import { quotedName } from '../../db/index.js';
import { indexTables } from './index-tables.js';

/** Literal for SQL built from a value we validated ourselves (model ids). */
const literal = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** A model's partial HNSW index (cosine) on a chunks table, named the same in every schema. */
export function hnswIndexSql(
  modelId: string,
  dimensions: number,
  chunks = indexTables.chunks,
): string {
  return (
    `CREATE INDEX IF NOT EXISTS ${hnswIndexName(modelId)} ON ${quotedName(chunks)} ` +
    `USING hnsw ((embedding::vector(${Math.trunc(dimensions)})) vector_cosine_ops) WHERE model_id = ${literal(modelId)}`
  );
}

export function hnswIndexName(modelId: string): string {
  return `index_chunks_hnsw_${createHash('sha256').update(modelId).digest('hex').slice(0, 16)}`;
}
