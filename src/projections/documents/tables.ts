import { sql } from 'drizzle-orm';
import {
  bigint,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';

/**
 * The documents read model: one row per document with its latest version, its
 * attributes and how far that version got through the pipeline (with the time of
 * each stage). Built from the event log and the status stream, in any order: every
 * change is guarded by the version it belongs to.
 */
export const projDocuments = pgTable(
  'proj_documents',
  {
    tenant: text('tenant').notNull(),
    collection: text('collection').notNull(),
    documentId: text('document_id').notNull(),
    /** Newest version seen from either stream. */
    version: bigint('version', { mode: 'number' }).notNull(),
    /** Furthest stage of that version: received, chunked, embedded, indexed, failed or deleted. */
    status: text('status').notNull(),
    /** Version the attributes below come from. */
    receivedVersion: bigint('received_version', { mode: 'number' }).notNull().default(0),
    title: text('title'),
    uri: text('uri'),
    mimeType: text('mime_type'),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    contentHash: text('content_hash'),
    bytes: bigint('bytes', { mode: 'number' }).notNull().default(0),
    receivedAt: timestamp('received_at', { withTimezone: true }),
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
    chunkedAt: timestamp('chunked_at', { withTimezone: true }),
    embeddedAt: timestamp('embedded_at', { withTimezone: true }),
    indexedAt: timestamp('indexed_at', { withTimezone: true }),
    failedAt: timestamp('failed_at', { withTimezone: true }),
    chunkCount: integer('chunk_count'),
    parts: integer('parts'),
    embeddedParts: integer('embedded_parts')
      .array()
      .notNull()
      .default(sql`'{}'::int[]`),
    indexedParts: integer('indexed_parts')
      .array()
      .notNull()
      .default(sql`'{}'::int[]`),
    modelId: text('model_id'),
    /** Parts embedded and indexed by each model, for the current version. */
    progress: jsonb('progress')
      .$type<Record<string, { e: number[]; i: number[] }>>()
      .notNull()
      .default(sql`'{}'::jsonb`),
    lastError: jsonb('last_error').$type<{
      code: string;
      message: string;
      consumer: string;
      at: string;
    }>(),
    /**
     * What the current version's file says about itself (title, language, authors, created,
     * modified), from its chunked status; null for text documents.
     */
    facts: jsonb('facts').$type<{
      title?: string;
      language?: string;
      authors?: string[];
      created?: string;
      modified?: string;
    }>(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.tenant, t.collection, t.documentId] }),
    index('proj_documents_status').on(t.tenant, t.collection, t.status, t.documentId),
  ],
);

/** Highest stream sequence applied, per stream, written in the same transaction as the rows. */
export const projDocumentsCheckpoints = pgTable('proj_documents_checkpoints', {
  stream: text('stream').primaryKey(),
  seq: bigint('seq', { mode: 'number' }).notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
