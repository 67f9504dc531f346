import { customType } from 'drizzle-orm/pg-core';

/** bytea as a Buffer (drizzle has no built-in bytea column). */
export const bytea = customType<{ data: Buffer; driverData: Buffer }>({
  dataType: () => 'bytea',
});

/**
 * A pgvector column without fixed dimensions: one table holds several models' vectors,
 * each indexed by its own partial HNSW index on `embedding::vector(n)`.
 */
export const anyVector = customType<{ data: number[]; driverData: string }>({
  dataType: () => 'vector',
  toDriver: (v) => `[${v.join(',')}]`,
  fromDriver: (v) => JSON.parse(v) as number[],
});

export const tsvector = customType<{ data: string }>({
  dataType: () => 'tsvector',
});
