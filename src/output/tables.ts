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
 * Webhook subscriptions of a tenant. The secret signs every request (Standard
 * Webhooks); it is shown once, when the subscription is made.
 */
export const webhookSubscriptions = pgTable('webhook_subscriptions', {
  id: text('id').primaryKey(),
  tenant: text('tenant').notNull(),
  url: text('url').notNull(),
  /** Event types delivered; empty: all. */
  events: text('events')
    .array()
    .notNull()
    .default(sql`'{}'::text[]`),
  /** Collections whose events are delivered; empty: all. */
  collections: text('collections')
    .array()
    .notNull()
    .default(sql`'{}'::text[]`),
  secret: text('secret').notNull(),
  /** The secret before the last rotation: requests are signed with it too until previous_until. */
  previousSecret: text('previous_secret'),
  previousUntil: timestamp('previous_until', { withTimezone: true }),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  disabledAt: timestamp('disabled_at', { withTimezone: true }),
  disabledReason: text('disabled_reason'),
});

/** Each tenant's secret for signing the calls to events' own callbackUrl. */
export const webhookCallbackSecrets = pgTable('webhook_callback_secrets', {
  tenant: text('tenant').primaryKey(),
  secret: text('secret').notNull(),
  previousSecret: text('previous_secret'),
  previousUntil: timestamp('previous_until', { withTimezone: true }),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * One delivery of one event to one endpoint: its id is the `webhook-id` header, the
 * same on every attempt. Pending deliveries are claimed with a lease, so a dispatcher
 * that dies mid-request leaves them to be sent again (with the same id).
 */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: text('id').primaryKey(),
    tenant: text('tenant').notNull(),
    /** Null for a call to an event's own callbackUrl. */
    subscriptionId: text('subscription_id'),
    /** What concurrency is limited by: the subscription, or the callback URL's origin. */
    endpoint: text('endpoint').notNull(),
    url: text('url').notNull(),
    eventType: text('event_type').notNull(),
    payload: jsonb('payload').notNull(),
    /** pending, succeeded, dead (attempts spent), gone (410), cancelled */
    status: text('status').notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    leaseUntil: timestamp('lease_until', { withTimezone: true }),
    lastStatus: integer('last_status'),
    lastError: text('last_error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
  },
  (t) => [
    index('webhook_deliveries_due').on(t.status, t.nextAttemptAt),
    index('webhook_deliveries_endpoint').on(t.endpoint, t.status, t.nextAttemptAt),
    index('webhook_deliveries_subscription').on(t.subscriptionId, t.createdAt),
    // Fair claims look at each tenant's due deliveries; retention at the oldest.
    index('webhook_deliveries_tenant').on(t.tenant, t.status, t.nextAttemptAt),
    index('webhook_deliveries_created').on(t.createdAt),
  ],
);

/** Every attempt of every delivery: the delivery log (status code, latency, excerpt). */
export const webhookAttempts = pgTable(
  'webhook_attempts',
  {
    deliveryId: text('delivery_id').notNull(),
    attempt: integer('attempt').notNull(),
    subscriptionId: text('subscription_id'),
    tenant: text('tenant').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    status: integer('status'),
    latencyMs: integer('latency_ms').notNull(),
    error: text('error'),
    /** The first 256 characters of the answer, never more. */
    excerpt: text('excerpt'),
  },
  (t) => [
    primaryKey({ columns: [t.deliveryId, t.attempt] }),
    index('webhook_attempts_subscription').on(t.subscriptionId, t.at),
    index('webhook_attempts_at').on(t.at),
  ],
);

/**
 * The output role's own view of each document: its fold of the events and status
 * streams (to know when a version is indexed), the callbackUrl of the version that
 * asked for one, and the versions already announced.
 */
export const outputDocuments = pgTable(
  'output_documents',
  {
    tenant: text('tenant').notNull(),
    collection: text('collection').notNull(),
    documentId: text('document_id').notNull(),
    state: jsonb('state').notNull(),
    callbackUrl: text('callback_url'),
    callbackVersion: bigint('callback_version', { mode: 'number' }),
    announcedIndexed: bigint('announced_indexed', { mode: 'number' }).notNull().default(0),
    announcedFailed: bigint('announced_failed', { mode: 'number' }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.tenant, t.collection, t.documentId] })],
);
