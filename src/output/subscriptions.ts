import { randomBytes } from 'node:crypto';
import type { Sql } from '../db/index.js';
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

/** Makes a subscription; its secret is returned here and never again. */
export async function createSubscription(
  sql: Sql,
  o: { tenant: string; url: string; events?: string[]; collections?: string[] },
): Promise<Subscription & { secret: string }> {
  const id = `wh_${randomBytes(12).toString('base64url')}`;
  const secret = newSecret();
  const [row] = await sql<Row[]>`
    INSERT INTO webhook_subscriptions (id, tenant, url, events, collections, secret)
    VALUES (${id}, ${o.tenant}, ${o.url}, ${o.events ?? []}::text[], ${o.collections ?? []}::text[], ${secret})
    RETURNING *`;
  return { ...view(row!), secret };
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

/** Rotates the tenant's secret for callbackUrl calls and returns it (shown once). */
export async function rotateCallbackSecret(sql: Sql, tenant: string): Promise<string> {
  const secret = newSecret();
  await sql`
    INSERT INTO webhook_callback_secrets (tenant, secret) VALUES (${tenant}, ${secret})
    ON CONFLICT (tenant) DO UPDATE SET secret = EXCLUDED.secret, created_at = now()`;
  return secret;
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

/** The last `limit` attempts of a subscription's deliveries, newest first, and counts. */
export async function deliveryLog(
  sql: Sql,
  id: string,
  limit: number,
): Promise<{ attempts: AttemptView[]; deliveries: Record<string, number> }> {
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
    ORDER BY a.at DESC LIMIT ${limit}`;
  const counts = await sql<{ status: string; n: number }[]>`
    SELECT status, count(*)::int AS n FROM webhook_deliveries WHERE subscription_id = ${id} GROUP BY status`;
  return {
    attempts: rows.map((r) => ({
      deliveryId: r.delivery_id,
      eventType: r.event_type,
      attempt: r.attempt,
      at: new Date(r.at).toISOString(),
      status: r.status,
      latencyMs: r.latency_ms,
      error: r.error,
      excerpt: r.excerpt,
      deliveryStatus: r.delivery_status,
    })),
    deliveries: Object.fromEntries(counts.map((c) => [c.status, c.n])),
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
