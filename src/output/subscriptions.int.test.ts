import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/harness/database.js';
import { createSubscription } from './subscriptions.js';

/** A tenant may have at most `max` subscriptions, even when it asks for many at once. */
describe('the subscription cap per tenant', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('refuses the one past the cap with WEBHOOK_LIMIT, and counts each tenant apart', async () => {
    const make = (tenant: string) =>
      createSubscription(db.sql, { tenant, url: 'http://example.com/h', max: 3 });
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => make('capped')));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    for (const r of results.filter((r) => r.status === 'rejected'))
      expect(r.reason).toMatchObject({
        code: 'WEBHOOK_LIMIT',
        message: expect.stringMatching(/SLUICE_WEBHOOK_MAX_SUBSCRIPTIONS allows \(3\)/),
      });
    const [n] = await db.sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM webhook_subscriptions WHERE tenant = 'capped'`;
    expect(n!.n).toBe(3);
    // Another tenant has its own three.
    await expect(make('neighbour')).resolves.toMatchObject({ tenant: 'neighbour' });
  });
});
