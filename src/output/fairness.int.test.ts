import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/harness/database.js';
import { until } from '../../test/harness/pipeline.js';
import type { Sql } from '../db/index.js';
import { createLogger } from '../logger.js';
import { enqueue } from './announce.js';
import { Dispatcher } from './dispatcher.js';
import { verify } from './signing.js';
import { WebhookAllowlist } from './ssrf.js';
import {
  createSubscription,
  rotateCallbackSecret,
  rotateSubscriptionSecret,
} from './subscriptions.js';

/** How long a request to a dead endpoint holds its slot: what a starved tenant would wait. */
const TIMEOUT_MS = 20_000;
const PER_TENANT = 16;

interface Got {
  id: string;
  timestamp: number;
  signature: string;
  body: string;
  at: number;
}

/**
 * One dispatcher, real receivers on loopback. Fairness: tenant A's 1,000 callbacks to 8
 * endpoints that accept and never answer (each request holds its slot for 20 s) must
 * not starve tenant B, whose subscription answers at once. Without a per-tenant cap, A
 * held all 64 slots (8 endpoints x 8) and B waited for A's timeouts. Rotation: during
 * the overlap a request carries signatures with both secrets, after it the new only.
 */
describe('the dispatcher shares its slots among tenants', () => {
  let db: TestDatabase;
  let good: Server;
  let goodUrl: string;
  const got = new Map<string, Got>();
  const dead: TcpServer[] = [];
  const deadSockets = new Set<Socket>();
  let deadConnections = 0;
  let d: Dispatcher;

  beforeAll(async () => {
    db = await createTestDatabase();
    good = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const id = String(req.headers['webhook-id']);
        got.set(id, {
          id,
          timestamp: Number(req.headers['webhook-timestamp']),
          signature: String(req.headers['webhook-signature']),
          body,
          at: Date.now(),
        });
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => good.listen(0, '127.0.0.1', r));
    goodUrl = `http://127.0.0.1:${(good.address() as AddressInfo).port}/hook`;
    for (let i = 0; i < 8; i++) {
      // Accepts, reads, never answers.
      const s = createTcpServer((socket) => {
        deadConnections++;
        deadSockets.add(socket);
        socket.on('close', () => deadSockets.delete(socket));
        socket.resume();
      });
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
      dead.push(s);
    }
    d = new Dispatcher({
      sql: db.sql,
      logger: createLogger({ level: 'silent' }),
      allow: new WebhookAllowlist(['127.0.0.0/8']),
      timeoutMs: TIMEOUT_MS,
      maxAttempts: 5,
      backoffMs: 600_000,
      perEndpoint: 8,
      perTenant: PER_TENANT,
      concurrency: 64,
      pollMs: 50,
    });
    await d.start();
  });
  afterAll(async () => {
    // The dead endpoints' requests end (as errors) once their sockets close.
    for (const s of deadSockets) s.destroy();
    await d?.stop();
    for (const s of dead) await new Promise((r) => s.close(r));
    good?.closeAllConnections();
    await new Promise((r) => good?.close(r));
    await db?.drop();
  });

  const send = (tenant: string, items: { key: string; callbackUrl?: string }[]): Promise<void> =>
    db.sql.begin((tx) =>
      enqueue(
        tx as unknown as Sql,
        items.map((i) => ({
          type: 'document.indexed' as const,
          tenant,
          collection: 'c',
          key: i.key,
          data: { documentId: i.key },
          ...(i.callbackUrl ? { callbackUrl: i.callbackUrl } : {}),
        })),
      ),
    );
  const idOf = async (tenant: string, key: string): Promise<string> => {
    const [r] = await db.sql<{ id: string }[]>`
      SELECT id FROM webhook_deliveries WHERE tenant = ${tenant}
        AND payload -> 'data' ->> 'documentId' = ${key}`;
    return r!.id;
  };
  /** Enqueues one event of B's at a time and measures until its receiver has it. */
  const latencies = async (label: string, n: number): Promise<number[]> => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const key = `${label}-${i}`;
      const started = Date.now();
      await send('b', [{ key }]);
      const id = await idOf('b', key);
      // A starved B waits for A's 20 s timeouts: this bound fails it well before.
      await until(() => got.has(id), TIMEOUT_MS / 2, `B's delivery ${key}`);
      out.push(got.get(id)!.at - started);
    }
    return out;
  };
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

  it("keeps tenant B's latency while tenant A floods 8 dead endpoints", async () => {
    await createSubscription(db.sql, { tenant: 'b', url: goodUrl });
    const alone = await latencies('alone', 5);

    const origins = dead.map((s) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`);
    await send(
      'a',
      Array.from({ length: 1000 }, (_, i) => ({
        key: `flood-${i}`,
        callbackUrl: `${origins[i % origins.length]}/cb/${i}`,
      })),
    );
    // A holds every slot it may: its share, and no more.
    await until(() => deadConnections >= PER_TENANT, 10_000, "A's share of the slots taken");
    const flooded = await latencies('flood', 5);
    const [a] = await db.sql<{ pending: number }[]>`
      SELECT count(*)::int AS pending FROM webhook_deliveries
      WHERE tenant = 'a' AND status = 'pending'`;

    console.log(
      `tenant B delivery latency: alone median ${median(alone)} ms (${alone.join(', ')}); ` +
        `under A's flood median ${median(flooded)} ms (${flooded.join(', ')}); ` +
        `A: ${deadConnections} requests hanging on its dead endpoints, ${a!.pending} pending`,
    );
    // Each of B's deliveries took a tenth of what one of A's hanging requests holds a
    // slot for (a starved B waits at least that long), tens of times its latency alone.
    expect(Math.max(...flooded)).toBeLessThan(TIMEOUT_MS / 10);
    // A never held more than its share, and is still being served.
    expect(deadConnections).toBe(PER_TENANT);
    expect(a!.pending).toBe(1000);
  }, 60_000);

  it('signs with both secrets during the overlap after a rotation, and the new one after', async () => {
    const sub = await createSubscription(db.sql, { tenant: 'r', url: goodUrl });
    const deliver = async (key: string, tenant = 'r', callbackUrl?: string): Promise<Got> => {
      await send(tenant, [{ key, ...(callbackUrl ? { callbackUrl } : {}) }]);
      const [row] = await db.sql<{ id: string }[]>`
        SELECT id FROM webhook_deliveries WHERE tenant = ${tenant}
          AND payload -> 'data' ->> 'documentId' = ${key}
          AND (subscription_id IS NULL) = ${callbackUrl !== undefined}`;
      await until(() => got.has(row!.id), 10_000, `delivery ${key}`);
      return got.get(row!.id)!;
    };
    const ok = (secret: string, g: Got) => verify(secret, g.id, g.timestamp, g.body, g.signature);

    const before = await deliver('r-0');
    expect(ok(sub.secret, before)).toBe(true);
    expect(before.signature.split(' ')).toHaveLength(1);

    const rotated = (await rotateSubscriptionSecret(db.sql, 'r', sub.id, 3_600_000))!;
    expect(rotated.previousValidUntil).not.toBeNull();
    const during = await deliver('r-1');
    expect(during.signature.split(' ')).toHaveLength(2);
    expect(ok(rotated.secret, during)).toBe(true);
    expect(ok(sub.secret, during)).toBe(true);

    // The window ends.
    await db.sql`UPDATE webhook_subscriptions SET previous_until = now() - interval '1 second'
                 WHERE id = ${sub.id}`;
    const after = await deliver('r-2');
    expect(after.signature.split(' ')).toHaveLength(1);
    expect(ok(rotated.secret, after)).toBe(true);
    expect(ok(sub.secret, after)).toBe(false);

    // Another tenant cannot rotate it.
    expect(await rotateSubscriptionSecret(db.sql, 'other', sub.id, 3_600_000)).toBeUndefined();

    // The tenant's callback secret, the same way.
    const cb = `${goodUrl}/callback`;
    const first = await rotateCallbackSecret(db.sql, 'r');
    const second = await rotateCallbackSecret(db.sql, 'r', 3_600_000);
    const both = await deliver('r-cb-1', 'r', cb);
    expect(ok(first.secret, both)).toBe(true);
    expect(ok(second.secret, both)).toBe(true);
    const third = await rotateCallbackSecret(db.sql, 'r', 0);
    expect(third.previousValidUntil).toBeNull();
    const only = await deliver('r-cb-2', 'r', cb);
    expect(ok(third.secret, only)).toBe(true);
    expect(ok(second.secret, only)).toBe(false);
  }, 60_000);
});
