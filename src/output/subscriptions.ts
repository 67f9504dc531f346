import { randomBytes } from 'node:crypto';
import type { Sql } from '../db/index.js';
import { SluiceError } from '../errors/index.js';
import { newSecret } from './signing.js';

/** Event types a subscription can ask for. */
export const webhookEventTypes = [
  'document.indexed',
  'document.failed',
  'document.deleted',
  'replay.completed',
  'replay.failed',
] as const;
export type WebhookEventType = (typeof webhookEventTypes)[number];

export interface Subscription {
  id: string;
  tenant: string;
  url: string;
  events: string[];
  collections: string[];
  createdAt: string;
  disabledAt: string | null;
  disabledReason: string | null;
}

interface Row {
  id: string;
  tenant: string;
  url: string;
  events: string[];
  collections: string[];
  secret: string;
  created_at: Date;
  disabled_at: Date | null;
  disabled_reason: string | null;
}

const view = (r: Row): Subscription => ({
  id: r.id,
  tenant: r.tenant,
  url: r.url,
  events: r.events,
  collections: r.collections,
  createdAt: new Date(r.created_at).toISOString(),
  disabledAt: r.disabled_at === null ? null : new Date(r.disabled_at).toISOString(),
  disabledReason: r.disabled_reason,
});

/**
 * Makes a subscription; its secret is returned here and never again. A tenant with
 * `max` subscriptions already gets WEBHOOK_LIMIT (counted under a per-tenant lock, so
 * concurrent requests cannot pass it together).
 */
export async function createSubscription(
  sql: Sql,
  o: { tenant: string; url: string; events?: string[]; collections?: string[]; max?: number },
): Promise<Subscription & { secret: string }> {
  const id = `wh_${randomBytes(12).toString('base64url')}`;
  const secret = newSecret();
  const row = await sql.begin(async (txn) => {
    const tx = txn as unknown as Sql;
    if (o.max !== undefined) {
      await tx`SELECT pg_advisory_xact_lock(hashtext(${`sluice-webhooks:${o.tenant}`}))`;
      const [c] = await tx<{ n: number }[]>`
        SELECT count(*)::int AS n FROM webhook_subscriptions WHERE tenant = ${o.tenant}`;
      const n = c!.n;
      if (n >= o.max)
        throw new SluiceError(
          'WEBHOOK_LIMIT',
          `tenant ${o.tenant} has ${n} webhook subscriptions, the most SLUICE_WEBHOOK_MAX_SUBSCRIPTIONS allows (${o.max}); delete one first`,
          { details: { limit: o.max } },
        );
    }
    const [r] = await tx<Row[]>`
      INSERT INTO webhook_subscriptions (id, tenant, url, events, collections, secret)
      VALUES (${id}, ${o.tenant}, ${o.url}, ${o.events ?? []}::text[], ${o.collections ?? []}::text[], ${secret})
      RETURNING *`;
    return r!;
  });
  return { ...view(row), secret };
}

export async function listSubscriptions(sql: Sql, tenant: string): Promise<Subscription[]> {
  const rows = await sql<Row[]>`
    SELECT * FROM webhook_subscriptions WHERE tenant = ${tenant} ORDER BY created_at`;
  return rows.map(view);
}

export async function getSubscription(
  sql: Sql,
  tenant: string,
  id: string,
): Promise<Subscription | undefined> {
  const [row] = await sql<Row[]>`
    SELECT * FROM webhook_subscriptions WHERE tenant = ${tenant} AND id = ${id}`;
  return row && view(row);
}

/**
 * Deletes a tenant's subscription and cancels its deliveries not yet made. Another
 * tenant's id deletes and cancels nothing (the caller answers 404).
 */
export async function deleteSubscription(sql: Sql, tenant: string, id: string): Promise<boolean> {
  return sql.begin(async (txn) => {
    const tx = txn as unknown as Sql;
    const gone =
      await tx`DELETE FROM webhook_subscriptions WHERE tenant = ${tenant} AND id = ${id}`;
    if (gone.count === 0) return false;
    await tx`UPDATE webhook_deliveries SET status = 'cancelled'
             WHERE tenant = ${tenant} AND subscription_id = ${id} AND status = 'pending'`;
    return true;
  });
}

export interface Rotated {
  /** The new secret, shown once. */
  secret: string;
  /** Until when requests are signed with the previous secret too; null: not at all. */
  previousValidUntil: string | null;
}

/**
 * Rotates the tenant's secret for callbackUrl calls and returns it (shown once). For
 * `overlapMs` after, requests carry a signature with the old secret too.
 */
export async function rotateCallbackSecret(
  sql: Sql,
  tenant: string,
  overlapMs = 0,
): Promise<Rotated> {
  const secret = newSecret();
  const [r] = await sql<{ until: Date | null }[]>`
    INSERT INTO webhook_callback_secrets (tenant, secret) VALUES (${tenant}, ${secret})
    ON CONFLICT (tenant) DO UPDATE SET secret = EXCLUDED.secret, created_at = now(),
      previous_secret = CASE WHEN ${overlapMs} > 0 THEN webhook_callback_secrets.secret END,
      previous_until = CASE WHEN ${overlapMs} > 0
        THEN now() + ${`${overlapMs} milliseconds`}::interval END
    RETURNING previous_until AS until`;
  return { secret, previousValidUntil: r?.until ? new Date(r.until).toISOString() : null };
}

/**
 * Rotates a tenant's subscription secret and returns the new one (shown once); for
 * `overlapMs` after, requests (retries of pending deliveries too) carry a signature
 * with the old secret as well. Undefined when the tenant has no such subscription.
 */
export async function rotateSubscriptionSecret(
  sql: Sql,
  tenant: string,
  id: string,
  overlapMs = 0,
): Promise<Rotated | undefined> {
  const secret = newSecret();
  const [r] = await sql<{ until: Date | null }[]>`
    UPDATE webhook_subscriptions SET secret = ${secret},
      previous_secret = CASE WHEN ${overlapMs} > 0 THEN secret END,
      previous_until = CASE WHEN ${overlapMs} > 0
        THEN now() + ${`${overlapMs} milliseconds`}::interval END
    WHERE tenant = ${tenant} AND id = ${id}
    RETURNING previous_until AS until`;
  if (!r) return undefined;
  return { secret, previousValidUntil: r.until ? new Date(r.until).toISOString() : null };
}

export interface AttemptView {
  deliveryId: string;
  eventType: string;
  attempt: number;
  at: string;
  status: number | null;
  latencyMs: number;
  error: string | null;
  excerpt: string | null;
  deliveryStatus: string;
}

/**
 * How many of a subscription's latest deliveries the log counts by status: the count
 * reads at most this many rows however long the subscription has been delivering.
 */
export const DELIVERY_COUNT_WINDOW = 10_000;

/** Where a page of the delivery log ends: the last attempt shown, opaque to callers. */
function cursorOf(a: { at: string; deliveryId: string; attempt: number }): string {
  return Buffer.from(`${a.at}|${a.deliveryId}|${a.attempt}`).toString('base64url');
}

function parseCursor(raw: string): { at: string; deliveryId: string; attempt: number } {
  const [at, deliveryId, attempt] = Buffer.from(raw, 'base64url').toString().split('|');
  if (!at || !deliveryId || !/^\d+$/.test(attempt ?? '') || Number.isNaN(Date.parse(at)))
    throw new SluiceError('REQUEST_INVALID', 'the cursor is not one this log gave', {
      details: { pointer: '/before' },
    });
  return { at, deliveryId, attempt: Number(attempt) };
}

/**
 * A page of a subscription's attempts, newest first (`before`: the `next` cursor of the
 * page before), and its deliveries by status among its latest DELIVERY_COUNT_WINDOW
 * (`countsTruncated` says when older ones were left out of the counts).
 */
export async function deliveryLog(
  sql: Sql,
  id: string,
  limit: number,
  before?: string,
): Promise<{
  attempts: AttemptView[];
  next: string | null;
  deliveries: Record<string, number>;
  countsTruncated: boolean;
}> {
  const c = before === undefined ? undefined : parseCursor(before);
  const rows = await sql<
    {
      delivery_id: string;
      event_type: string;
      attempt: number;
      at: Date;
      status: number | null;
      latency_ms: number;
      error: string | null;
      excerpt: string | null;
      delivery_status: string;
    }[]
  >`
    SELECT a.delivery_id, d.event_type, a.attempt, a.at, a.status, a.latency_ms, a.error, a.excerpt,
           d.status AS delivery_status
    FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
    WHERE a.subscription_id = ${id}
      ${c === undefined ? sql`` : sql`AND (a.at, a.delivery_id, a.attempt) < (${c.at}::timestamptz, ${c.deliveryId}, ${c.attempt})`}
    ORDER BY a.at DESC, a.delivery_id DESC, a.attempt DESC LIMIT ${limit}`;
  const counts = await sql<{ status: string; n: number }[]>`
    SELECT status, count(*)::int AS n FROM (
      SELECT status FROM webhook_deliveries WHERE subscription_id = ${id}
      ORDER BY created_at DESC LIMIT ${DELIVERY_COUNT_WINDOW}) latest
    GROUP BY status`;
  const older = await sql`
    SELECT 1 FROM webhook_deliveries WHERE subscription_id = ${id}
    ORDER BY created_at DESC OFFSET ${DELIVERY_COUNT_WINDOW} LIMIT 1`;
  const attempts = rows.map((r) => ({
    deliveryId: r.delivery_id,
    eventType: r.event_type,
    attempt: r.attempt,
    at: new Date(r.at).toISOString(),
    status: r.status,
    latencyMs: r.latency_ms,
    error: r.error,
    excerpt: r.excerpt,
    deliveryStatus: r.delivery_status,
  }));
  const last = attempts.at(-1);
  return {
    attempts,
    next: attempts.length === limit && last ? cursorOf(last) : null,
    deliveries: Object.fromEntries(counts.map((r) => [r.status, r.n])),
    countsTruncated: older.length > 0,
  };
}

/** Sends a subscription's dead deliveries (all, or the listed ones) again, with fresh attempts. */
export async function redriveDeliveries(sql: Sql, id: string, ids?: string[]): Promise<number> {
  const rows = await sql`
    UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = now(), lease_until = null
    WHERE subscription_id = ${id} AND status = 'dead'
      ${ids === undefined ? sql`` : sql`AND id = ANY(${ids}::text[])`}
    RETURNING id`;
  return rows.length;
}
