import { createHash } from 'node:crypto';
import type { Sql } from '../db/index.js';
import type { DocumentsItem } from '../projections/index.js';
import { applyDoc, emptyDoc, type DocState } from '../projections/index.js';
import { byKey, keyOf, lockRows, sortedKeys, type DocKey } from '../projections/index.js';
import type { WebhookEventType } from './subscriptions.js';

interface Row {
  tenant: string;
  collection: string;
  document_id: string;
  state: DocState;
  callback_url: string | null;
  callback_version: string | null;
  announced_indexed: string;
  announced_failed: string;
}

export interface Announcement {
  type: WebhookEventType;
  tenant: string;
  collection: string;
  /** What identifies the event (with the endpoint, the delivery's id). */
  key: string;
  data: Record<string, unknown>;
  /** The event's own callbackUrl, when this version asked for one. */
  callbackUrl?: string;
}

const digest = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 32);

/**
 * The output role's view of documents: it folds the events and status streams as the
 * documents projection does (into a table of its own), and announces the moments
 * subscribers hear of: a version indexed (every part, by one model), a version
 * failed, a document deleted. Each announcement becomes one delivery per matching
 * subscription (and one to the version's callbackUrl), inserted in the same
 * transaction; redelivered batches announce nothing twice (delivery ids are stable).
 */
export class Announcer {
  constructor(private readonly sql: Sql) {}

  async apply(items: DocumentsItem[], _checkpoint: { stream: string; seq: number }): Promise<void> {
    if (items.length === 0) return;
    const keys = sortedKeys(items);
    const inputs = byKey(items);
    await this.sql.begin(async (txn) => {
      const tx = txn as unknown as Sql;
      const before = new Map<string, Row>();
      for (const r of await lockRows<Row>(tx, 'output_documents', keys))
        before.set(
          keyOf({ tenant: r.tenant, collection: r.collection, documentId: r.document_id }),
          r,
        );
      const out: Announcement[] = [];
      const rows: Row[] = [];
      for (const k of keys) {
        const row = before.get(keyOf(k));
        let state = row?.state ?? emptyDoc(k.tenant, k.collection, k.documentId);
        let callbackUrl = row?.callback_url ?? null;
        let callbackVersion = Number(row?.callback_version ?? 0);
        let indexed = Number(row?.announced_indexed ?? 0);
        let failed = Number(row?.announced_failed ?? 0);
        for (const input of inputs.get(keyOf(k))!) {
          state = applyDoc(state, input);
          if (input.kind === 'upserted' && input.version >= callbackVersion) {
            callbackVersion = input.version;
            callbackUrl = input.callbackUrl ?? null;
          }
          if (input.kind === 'deleted')
            out.push(this.announce('document.deleted', k, input.version, {}));
        }
        const cb = (v: number) =>
          callbackUrl !== null && callbackVersion === v ? { callbackUrl } : {};
        if (state.status === 'indexed' && state.version > indexed) {
          indexed = state.version;
          out.push({
            ...this.announce('document.indexed', k, state.version, {
              modelId: state.modelId,
              chunkCount: state.chunkCount,
            }),
            ...cb(state.version),
          });
        }
        if (state.status === 'failed' && state.version > failed) {
          failed = state.version;
          out.push({
            ...this.announce('document.failed', k, state.version, {
              stage: state.lastError?.consumer ?? null,
              code: state.lastError?.code ?? null,
              message: state.lastError?.message ?? null,
            }),
            ...cb(state.version),
          });
        }
        rows.push({
          tenant: k.tenant,
          collection: k.collection,
          document_id: k.documentId,
          state,
          callback_url: callbackUrl,
          callback_version: String(callbackVersion),
          announced_indexed: String(indexed),
          announced_failed: String(failed),
        });
      }
      await tx`
        INSERT INTO output_documents (tenant, collection, document_id, state, callback_url, callback_version,
                                      announced_indexed, announced_failed)
        SELECT t, c, d, s::jsonb, u, cv::bigint, ai::bigint, af::bigint
        FROM unnest(${rows.map((r) => r.tenant)}::text[], ${rows.map((r) => r.collection)}::text[],
                    ${rows.map((r) => r.document_id)}::text[], ${rows.map((r) => JSON.stringify(r.state))}::text[],
                    ${rows.map((r) => r.callback_url)}::text[], ${rows.map((r) => r.callback_version)}::text[],
                    ${rows.map((r) => r.announced_indexed)}::text[], ${rows.map((r) => r.announced_failed)}::text[])
             AS u(t, c, d, s, u, cv, ai, af)
        ON CONFLICT (tenant, collection, document_id) DO UPDATE SET
          state = EXCLUDED.state, callback_url = EXCLUDED.callback_url,
          callback_version = EXCLUDED.callback_version, announced_indexed = EXCLUDED.announced_indexed,
          announced_failed = EXCLUDED.announced_failed`;
      if (out.length > 0) await enqueue(tx, out);
    });
  }

  private announce(
    type: WebhookEventType,
    k: DocKey,
    version: number,
    extra: Record<string, unknown>,
  ): Announcement {
    return {
      type,
      tenant: k.tenant,
      collection: k.collection,
      key: `${type}\u0000${k.tenant}\u0000${k.collection}\u0000${k.documentId}\u0000${version}`,
      data: {
        tenant: k.tenant,
        collection: k.collection,
        documentId: k.documentId,
        version,
        ...extra,
      },
    };
  }
}

/**
 * One delivery per announcement and matching subscription (and callbackUrl). The id,
 * the `webhook-id` header, is derived from the endpoint and the announcement, so
 * announcing again inserts nothing.
 */
export async function enqueue(tx: Sql, announcements: Announcement[]): Promise<void> {
  const tenants = [...new Set(announcements.map((a) => a.tenant))];
  const subs = await tx<
    { id: string; tenant: string; url: string; events: string[]; collections: string[] }[]
  >`
    SELECT id, tenant, url, events, collections FROM webhook_subscriptions
    WHERE tenant = ANY(${tenants}::text[]) AND disabled_at IS NULL`;
  const rows: {
    id: string;
    tenant: string;
    sub: string | null;
    endpoint: string;
    url: string;
    type: string;
    payload: string;
  }[] = [];
  const now = new Date().toISOString();
  for (const a of announcements) {
    const payload = JSON.stringify({ type: a.type, timestamp: now, data: a.data });
    for (const s of subs) {
      if (s.tenant !== a.tenant) continue;
      if (s.events.length > 0 && !s.events.includes(a.type)) continue;
      if (s.collections.length > 0 && !s.collections.includes(a.collection)) continue;
      rows.push({
        id: `msg_${digest(`${s.id}\u0000${a.key}`)}`,
        tenant: a.tenant,
        sub: s.id,
        endpoint: s.id,
        url: s.url,
        type: a.type,
        payload,
      });
    }
    if (a.callbackUrl) {
      let origin = 'invalid';
      try {
        origin = new URL(a.callbackUrl).origin;
      } catch {
        // a bad URL fails when it is called, and is logged as such
      }
      rows.push({
        id: `msg_${digest(`callback\u0000${a.callbackUrl}\u0000${a.key}`)}`,
        tenant: a.tenant,
        sub: null,
        // Per tenant: one tenant's flood of callbacks to an origin never queues another's.
        endpoint: `callback:${a.tenant}:${origin}`,
        url: a.callbackUrl,
        type: a.type,
        payload,
      });
    }
  }
  if (rows.length === 0) return;
  await tx`
    INSERT INTO webhook_deliveries (id, tenant, subscription_id, endpoint, url, event_type, payload, status)
    SELECT i, t, s, e, u, y, p::jsonb, 'pending'
    FROM unnest(${rows.map((r) => r.id)}::text[], ${rows.map((r) => r.tenant)}::text[], ${rows.map((r) => r.sub)}::text[],
                ${rows.map((r) => r.endpoint)}::text[], ${rows.map((r) => r.url)}::text[], ${rows.map((r) => r.type)}::text[],
                ${rows.map((r) => r.payload)}::text[]) AS x(i, t, s, e, u, y, p)
    ON CONFLICT (id) DO NOTHING`;
  await tx`SELECT pg_notify('sluice_webhooks', '')`;
}

/**
 * A replay finished or failed: delivered to the subscriptions that list the event type
 * explicitly (a replay concerns the installation, so "all events" does not include it).
 */
export async function announceReplay(
  sql: Sql,
  type: 'replay.completed' | 'replay.failed',
  data: Record<string, unknown>,
): Promise<void> {
  const subs = await sql<{ id: string; tenant: string; url: string }[]>`
    SELECT id, tenant, url FROM webhook_subscriptions
    WHERE disabled_at IS NULL AND ${type} = ANY(events)`;
  if (subs.length === 0) return;
  const key = `${type}\u0000${JSON.stringify(data)}\u0000${Date.now()}`;
  const payload = JSON.stringify({ type, timestamp: new Date().toISOString(), data });
  await sql`
    INSERT INTO webhook_deliveries (id, tenant, subscription_id, endpoint, url, event_type, payload, status)
    SELECT i, t, s, s, u, ${type}, ${payload}::jsonb, 'pending'
    FROM unnest(${subs.map((s) => `msg_${digest(`${s.id}\u0000${key}`)}`)}::text[],
                ${subs.map((s) => s.tenant)}::text[], ${subs.map((s) => s.id)}::text[],
                ${subs.map((s) => s.url)}::text[]) AS x(i, t, s, u)
    ON CONFLICT (id) DO NOTHING`;
  await sql`SELECT pg_notify('sluice_webhooks', '')`;
}
