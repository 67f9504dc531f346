import { boolean, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * API keys. Only a sha256 of each key's secret is stored; the key itself is shown
 * once, when it is created. A key belongs to one tenant; admin keys may also redrive
 * dead letters and run replays.
 */
export const apiKeys = pgTable('api_keys', {
  id: text('id').primaryKey(),
  secretHash: text('secret_hash').notNull(),
  tenant: text('tenant').notNull(),
  admin: boolean('admin').notNull().default(false),
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
