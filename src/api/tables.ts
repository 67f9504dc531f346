import {
  bigint,
  boolean,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';

/**
 * API keys. Only a sha256 of each key's secret is stored; the key itself is shown
 * once, when it is created. A key belongs to one tenant; its admin keys may also manage
 * that tenant's dead letters and search settings. Operator keys administer the whole
 * installation: every tenant's dead letters, and replays.
 */
export const apiKeys = pgTable('api_keys', {
  id: text('id').primaryKey(),
  secretHash: text('secret_hash').notNull(),
  tenant: text('tenant').notNull(),
  admin: boolean('admin').notNull().default(false),
  operator: boolean('operator').notNull().default(false),
  name: text('name'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
});

/**
 * The model each collection's queries use. A collection without a row uses the first
 * of SLUICE_MODELS. Switching is one update; the previous model is remembered.
 */
export const collectionModels = pgTable(
  'collection_models',
  {
    tenant: text('tenant').notNull(),
    collection: text('collection').notNull(),
    activeModel: text('active_model').notNull(),
    previousModel: text('previous_model'),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenant, t.collection] })],
);

/**
 * Redrives of many dead letters, run in the background by the API process that took
 * the request. `heartbeat_at` moves while it runs; a job whose heartbeat stops (its
 * process died) reads as interrupted, and a new job picks up what is left.
 */
export const redriveJobs = pgTable('redrive_jobs', {
  id: text('id').primaryKey(),
  /** The tenant whose letters it redrives; null for an operator's installation-wide job. */
  tenant: text('tenant'),
  selection: jsonb('selection').notNull(),
  status: text('status').notNull(),
  redriven: integer('redriven').notNull().default(0),
  failed: integer('failed').notNull().default(0),
  scanned: bigint('scanned', { mode: 'number' }).notNull().default(0),
  error: text('error'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  heartbeatAt: timestamp('heartbeat_at', { withTimezone: true }).notNull().defaultNow(),
  finishedAt: timestamp('finished_at', { withTimezone: true }),
});
