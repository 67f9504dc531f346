import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';
import { anyVector, tsvector } from '../../db/types.js';

/**
 * The indexer's view of each document, per model: the newest version it has applied
 * (events older than it are ignored) and whether that version is a deletion (a
 * tombstone: a late older update cannot bring the document back).
 */
export const indexDocuments = pgTable(
  'index_documents',
  {
    modelId: text('model_id').notNull(),
    tenant: text('tenant').notNull(),
    collection: text('collection').notNull(),
    documentId: text('document_id').notNull(),
    version: bigint('version', { mode: 'number' }).notNull(),
    deleted: boolean('deleted').notNull().default(false),
    chunkCount: integer('chunk_count').notNull().default(0),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.modelId, t.tenant, t.collection, t.documentId] })],
);

/**
 * Chunks with their vectors and text, one row per (model, document, position). Document
 * title, uri and metadata are copied in so a search hit needs no second query. Each
 * model's vectors get a partial HNSW index of their own (created by the indexer when it
 * first sees the model), so models never mix.
 */
export const indexChunks = pgTable(
  'index_chunks',
  {
    modelId: text('model_id').notNull(),
    tenant: text('tenant').notNull(),
    collection: text('collection').notNull(),
    documentId: text('document_id').notNull(),
    chunkIndex: integer('chunk_index').notNull(),
    chunkId: text('chunk_id').notNull(),
    version: bigint('version', { mode: 'number' }).notNull(),
    contentHash: text('content_hash').notNull(),
    text: text('text').notNull(),
    headings: text('headings').array().notNull(),
    title: text('title'),
    uri: text('uri'),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    embedding: anyVector('embedding').notNull(),
    /** English full-text of title, headings and text; written by the indexer with the row. */
    tsv: tsvector('tsv').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.modelId, t.tenant, t.collection, t.documentId, t.chunkIndex] }),
    index('index_chunks_tsv').using('gin', t.tsv),
    index('index_chunks_metadata').using('gin', sql`${t.metadata} jsonb_path_ops`),
  ],
);
