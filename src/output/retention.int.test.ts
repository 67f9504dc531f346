import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/harness/database.js';
import { pruneWebhooks } from './retention.js';
import { createSubscription, deliveryLog, DELIVERY_COUNT_WINDOW } from './subscriptions.js';

const DAY = 86_400_000;

/**
 * Retention: finished deliveries and attempts older than the setting go, in batches;
 * recent ones and pending ones (whatever their age) stay. The delivery log reads a
 * bounded number of rows: pages of attempts with a cursor, counts over the latest
 * deliveries only.
 */
describe('webhook retention and the bounded delivery log', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  /** Deliveries (and one attempt each) of a subscription, made `ageDays` ago. */
  const rows = async (sub: string, prefix: string, n: number, status: string, ageDays: number) => {
    await db.sql`
      INSERT INTO webhook_deliveries (id, tenant, subscription_id, endpoint, url, event_type, payload, status, created_at)
      SELECT ${prefix} || i, 't', ${sub}, ${sub}, 'http://example.com/h', 'document.indexed', '{}'::jsonb, ${status},
             now() - ${`${ageDays} days`}::interval + i * interval '1 millisecond'
      FROM generate_series(1, ${n}) i`;
    await db.sql`
      INSERT INTO webhook_attempts (delivery_id, attempt, subscription_id, tenant, at, status, latency_ms)
      SELECT ${prefix} || i, 1, ${sub}, 't', now() - ${`${ageDays} days`}::interval + i * interval '1 millisecond', 500, 3
      FROM generate_series(1, ${n}) i`;
  };
  const count = async (prefix: string) => {
    const [d] = await db.sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM webhook_deliveries WHERE id LIKE ${`${prefix}%`}`;
    const [a] = await db.sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM webhook_attempts WHERE delivery_id LIKE ${`${prefix}%`}`;
    return { deliveries: d!.n, attempts: a!.n };
  };

  it('deletes old finished deliveries and attempts in batches, and keeps recent and pending ones', async () => {
    const sub = (await createSubscription(db.sql, { tenant: 't', url: 'http://example.com/h' })).id;
    await rows(sub, 'old-ok-', 250, 'succeeded', 40);
    await rows(sub, 'old-dead-', 30, 'dead', 40);
    await rows(sub, 'old-pending-', 5, 'pending', 40);
    await rows(sub, 'new-ok-', 20, 'succeeded', 1);

    const pruned = await pruneWebhooks({ sql: db.sql, retentionMs: 30 * DAY, batch: 100 });
    expect(pruned).toEqual({ deliveries: 280, attempts: 280 });
    expect(await count('old-ok-')).toEqual({ deliveries: 0, attempts: 0 });
    expect(await count('old-dead-')).toEqual({ deliveries: 0, attempts: 0 });
    expect(await count('old-pending-')).toEqual({ deliveries: 5, attempts: 5 });
    expect(await count('new-ok-')).toEqual({ deliveries: 20, attempts: 20 });
    // 0 keeps everything.
    expect(await pruneWebhooks({ sql: db.sql, retentionMs: 0 })).toEqual({
      deliveries: 0,
      attempts: 0,
    });
  });

  it('pages the log with a cursor and counts only the latest deliveries', async () => {
    const sub = (await createSubscription(db.sql, { tenant: 't', url: 'http://example.com/l' })).id;
    await rows(sub, 'log-', DELIVERY_COUNT_WINDOW + 50, 'succeeded', 1);

    const first = await deliveryLog(db.sql, sub, 30);
    expect(first.attempts).toHaveLength(30);
    expect(first.countsTruncated).toBe(true);
    expect(first.deliveries).toEqual({ succeeded: DELIVERY_COUNT_WINDOW });
    const second = await deliveryLog(db.sql, sub, 30, first.next!);
    expect(second.attempts).toHaveLength(30);
    // Newest first, no overlap between pages.
    const ids = [...first.attempts, ...second.attempts].map((a) => a.deliveryId);
    expect(new Set(ids).size).toBe(60);
    expect(first.attempts.at(-1)!.at >= second.attempts[0]!.at).toBe(true);

    // A subscription under the window is counted whole.
    const small = (await createSubscription(db.sql, { tenant: 't', url: 'http://example.com/s' }))
      .id;
    await rows(small, 'small-', 3, 'dead', 1);
    const log = await deliveryLog(db.sql, small, 10);
    expect(log).toMatchObject({ deliveries: { dead: 3 }, countsTruncated: false, next: null });
    await expect(deliveryLog(db.sql, small, 10, 'bm9wZQ')).rejects.toMatchObject({
      code: 'REQUEST_INVALID',
    });
  });
});
