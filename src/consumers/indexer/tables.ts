import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  real,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';
import { anyVector, tsvector } from '../../db/index.js';

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
 * Documents each model's index holds complete (not deleted, every chunk row present), per
 * collection: kept by the indexer in the transaction that changes them, so `GET
 * /v1/models` reads coverage instead of counting chunks of every document per request.
 * A replay of the index rebuilds it with the other index tables.
 */
export const indexCoverage = pgTable(
  'index_coverage',
  {
    modelId: text('model_id').notNull(),
    tenant: text('tenant').notNull(),
    collection: text('collection').notNull(),
    documents: integer('documents').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.tenant, t.collection, t.modelId] })],
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
    /** Pages of a paged file (PDF) the chunk comes from; empty for other documents. */
    pages: integer('pages')
      .array()
      .notNull()
      .default(sql`'{}'::integer[]`),
    title: text('title'),
    uri: text('uri'),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    embedding: anyVector('embedding').notNull(),
    /** English full-text of title, headings and text; written by the indexer with the row. */
    tsv: tsvector('tsv').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.modelId, t.tenant, t.collection, t.documentId, t.chunkIndex] }),
    // No index on tsv: keyword search reads keyword_postings, which a replay derives from
    // it; a GIN index here was kept on every insert and rebuilt by every replay, unread.
    index('index_chunks_metadata').using('gin', sql`${t.metadata} jsonb_path_ops`),
  ],
);

/**
 * Keyword (BM25) index, kept by the indexer in the same transaction as the chunk rows it
 * derives from, so it is version-fenced like them and rebuilt by the same replay.
 *
 * A scope is one model's chunks of one collection of one tenant: BM25 statistics are
 * per scope. Its id is a 64-bit hash of (model, tenant, collection), so a replay
 * rebuilds the very same rows.
 */
export const keywordScopes = pgTable(
  'keyword_scopes',
  {
    scope: bigint('scope', { mode: 'bigint' }).primaryKey(),
    modelId: text('model_id').notNull(),
    tenant: text('tenant').notNull(),
    collection: text('collection').notNull(),
    /** Chunks with at least one term. */
    chunks: bigint('chunks', { mode: 'number' }).notNull().default(0),
    /** Sum of their lengths in terms: average length = total_length / chunks. */
    totalLength: bigint('total_length', { mode: 'number' }).notNull().default(0),
    /**
     * The smallest average length any stored impact was computed with (at least 1). A
     * posting's BM25 weight now is at most its impact × max(1, average now / this), the
     * bound that lets a keyword query stop reading a list early and stay exact.
     */
    impactAvg: doublePrecision('impact_avg').notNull().default(1),
  },
  (t) => [index('keyword_scopes_key').on(t.modelId, t.tenant, t.collection)],
);

/** Document frequency of each term in a scope (chunks containing it). */
export const keywordTerms = pgTable(
  'keyword_terms',
  {
    scope: bigint('scope', { mode: 'bigint' }).notNull(),
    term: text('term').notNull(),
    df: integer('df').notNull(),
    /**
     * Changes whenever the term's postings do (every writer of them writes this row), from
     * one sequence, so (scope, term, gen) names one list's content: the API's in-memory
     * copies of lists (keyword-memory.ts) are checked against it on every query.
     */
    gen: bigint('gen', { mode: 'bigint' })
      .notNull()
      .default(sql`nextval('keyword_gen')`),
  },
  (t) => [primaryKey({ columns: [t.scope, t.term] })],
);

/**
 * One row per (term, chunk). `impact` is the term's BM25 weight in the chunk without
 * its idf, computed with the scope's average length when written; queries read each
 * term's postings in impact order (so they can stop early) and score them exactly.
 */
export const keywordPostings = pgTable(
  'keyword_postings',
  {
    scope: bigint('scope', { mode: 'bigint' }).notNull(),
    term: text('term').notNull(),
    documentId: text('document_id').notNull(),
    chunkIndex: integer('chunk_index').notNull(),
    tf: integer('tf').notNull(),
    length: integer('length').notNull(),
    impact: real('impact').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.scope, t.term, t.documentId, t.chunkIndex] }),
    // The migration adds INCLUDE (document_id, chunk_index, tf, length), which drizzle
    // cannot express: queries read postings from the index alone, without the heap.
    index('keyword_postings_impact').on(t.scope, t.term, t.impact.desc()),
  ],
);

/**
 * Hybrid fusion weight per (tenant, collection, model): configuration, not derived
 * data, so replays leave it alone. Written by `sluice eval --calibrate` or by hand.
 */
export const searchFusion = pgTable(
  'search_fusion',
  {
    tenant: text('tenant').notNull(),
    collection: text('collection').notNull(),
    modelId: text('model_id').notNull(),
    vectorWeight: real('vector_weight').notNull(),
    /** How the weight was chosen (split, metric, score, queries), when calibrated. */
    calibration: jsonb('calibration').$type<Record<string, unknown>>(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenant, t.collection, t.modelId] })],
);
