import { bytea } from '../../db/index.js';
import { pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * The embedder's cache: one vector per (model, sha256 of the embedded text). A chunk
 * whose text did not change is never embedded again, whatever document it is in.
 */
export const embedderCache = pgTable(
  'embedder_cache',
  {
    modelId: text('model_id').notNull(),
    contentHash: text('content_hash').notNull(),
    /** float32 little-endian. */
    vector: bytea('vector').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.modelId, t.contentHash] })],
);
