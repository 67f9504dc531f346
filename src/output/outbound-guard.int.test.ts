import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/harness/database.js';
import { until } from '../../test/harness/pipeline.js';
import { createLogger } from '../logger.js';
import { enqueue } from './announce.js';
import { Dispatcher } from './dispatcher.js';
import { WebhookAllowlist } from './ssrf.js';

/**
 * The dispatcher connects only where the outbound guard allows: callbacks that reached
 * the table without passing ingest (an event published straight to NATS) and name
 * loopback in any spelling are never connected to. A receiver on 127.0.0.1 counts
 * every TCP connection; the same URLs with 127.0.0.0/8 allowed reach it (the control).
 */
describe('the outbound guard at connect time', () => {
  let db: TestDatabase;
  let server: Server;
  let port: number;
  let connections = 0;
  let requests = 0;

  beforeAll(async () => {
    db = await createTestDatabase();
    server = createServer((req, res) => {
      requests++;
      req.resume();
      res.writeHead(200).end('ok');
    });
    server.on('connection', () => connections++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    await db?.drop();
  });

  const spellings = (p: number) => [
    `http://127.0.0.1:${p}/cb`,
    `http://2130706433:${p}/cb`,
    `http://0x7f.1:${p}/cb`,
    `http://[::ffff:7f00:1]:${p}/cb`,
    `http://0.0.0.0:${p}/cb`,
    `http://0:${p}/cb`,
    `http://localhost:${p}/cb`,
    `http://[::]:${p}/cb`,
  ];

  const callbacks = async (tenant: string, urls: string[]) => {
    await db.sql.begin(async (tx) => {
      await enqueue(
        tx as unknown as typeof db.sql,
        urls.map((callbackUrl, i) => ({
          type: 'document.indexed' as const,
          tenant,
          collection: 'c',
          key: `${tenant}-${i}`,
          data: { documentId: `d${i}` },
          callbackUrl,
        })),
      );
    });
  };
  const byStatus = async (tenant: string) =>
    db.sql<{ status: string; last_error: string | null; attempts: number }[]>`
      SELECT status, last_error, attempts FROM webhook_deliveries WHERE tenant = ${tenant}`;

  const run = async (allow: string[], tenant: string, done: () => Promise<boolean>) => {
    const d = new Dispatcher({
      sql: db.sql,
      logger: createLogger({ level: 'silent' }),
      allow: new WebhookAllowlist(allow),
      timeoutMs: 2_000,
      maxAttempts: 5,
      backoffMs: 60_000,
      pollMs: 50,
    });
    await d.start();
    try {
      await until(done, 20_000, `${tenant}'s deliveries settled`);
    } finally {
      await d.stop();
    }
  };

  it('refuses every spelling of loopback at connect time, with no connection made', async () => {
    await callbacks('hostile', spellings(port));
    await run([], 'hostile', async () =>
      (await byStatus('hostile')).every((r) => r.status !== 'pending'),
    );
    const rows = await byStatus('hostile');
    expect(rows).toHaveLength(spellings(port).length);
    for (const r of rows) {
      // Refused once, for good: no attempt is left to spend on it.
      expect(r.status).toBe('dead');
      expect(r.attempts).toBe(1);
      expect(r.last_error).toMatch(/refused/);
    }
    expect(connections).toBe(0);
    expect(requests).toBe(0);
  });

  it('reaches the same receiver when 127.0.0.0/8 is allowed (the control)', async () => {
    const allowed = spellings(port).filter((u) => !/\[::\]|localhost/.test(u));
    await callbacks('allowed', allowed);
    await run(['127.0.0.0/8', '0.0.0.0/8', '::ffff:127.0.0.0/104'], 'allowed', async () =>
      (await byStatus('allowed')).every((r) => r.status === 'succeeded'),
    );
    expect(requests).toBe(allowed.length);
  });
});
