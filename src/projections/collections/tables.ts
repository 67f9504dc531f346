import {
  bigint,
  boolean,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';

/** Statistics per collection, per tenant: what GET /v1/collections answers. */
export const projCollections = pgTable(
  'proj_collections',
  {
    tenant: text('tenant').notNull(),
    collection: text('collection').notNull(),
    documentCount: integer('document_count').notNull().default(0),
    chunkCount: bigint('chunk_count', { mode: 'number' }).notNull().default(0),
    bytes: bigint('bytes', { mode: 'number' }).notNull().default(0),
    lastEventAt: timestamp('last_event_at', { withTimezone: true }),
  },
  (t) => [primaryKey({ columns: [t.tenant, t.collection] })],
);

/**
 * What each document contributes to its collection's statistics. Changes are applied
 * as the difference from this row, so a redelivered event adds nothing.
 */
export const projCollectionDocs = pgTable(
  'proj_collection_docs',
  {
    tenant: text('tenant').notNull(),
    collection: text('collection').notNull(),
    documentId: text('document_id').notNull(),
    version: bigint('version', { mode: 'number' }).notNull().default(0),
    present: boolean('present').notNull().default(false),
    bytes: bigint('bytes', { mode: 'number' }).notNull().default(0),
    chunkVersion: bigint('chunk_version', { mode: 'number' }).notNull().default(0),
    chunkCount: integer('chunk_count').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.tenant, t.collection, t.documentId] })],
);

export const projCollectionsCheckpoints = pgTable('proj_collections_checkpoints', {
  stream: text('stream').primaryKey(),
  seq: bigint('seq', { mode: 'number' }).notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
