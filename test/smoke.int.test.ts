import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { cosineDistance, sql } from 'drizzle-orm';
import { index, integer, pgTable, vector } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runMigrations } from '../src/db/index.js';
import { createTestDatabase, type TestDatabase } from './harness/database.js';
import { uniqueNamespace } from './harness/names.js';

describe('smoke: the servers infra/local provides', () => {
  let nc: NatsConnection;
  let db: TestDatabase;

  beforeAll(async () => {
    nc = await connect({ servers: inject('natsUrl') });
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await nc?.close();
    await db?.drop();
  });

  it('creates a stream and a durable consumer with filter_subjects, publishes and consumes', async () => {
    const ns = uniqueNamespace();
    const stream = `${ns}_SMOKE`.toUpperCase();
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: stream, subjects: [`${ns}.smoke.>`] });
    try {
      // filter_subjects and metadata need nats-server >= 2.10; 2.9 silently drops them.
      const info = await jsm.consumers.add(stream, {
        durable_name: 'reader',
        ack_policy: AckPolicy.Explicit,
        filter_subjects: [`${ns}.smoke.a`, `${ns}.smoke.b`],
        metadata: { owner: 'smoke' },
      });
      expect(info.config.filter_subjects).toEqual([`${ns}.smoke.a`, `${ns}.smoke.b`]);
      expect(info.config.metadata).toMatchObject({ owner: 'smoke' });

      const js = jetstream(nc);
      for (let i = 0; i < 10; i++) {
        const subject = `${ns}.smoke.${['a', 'b', 'c'][i % 3]}`;
        await js.publish(subject, JSON.stringify({ i }), { msgID: `m${i}` });
      }
      const dup = await js.publish(`${ns}.smoke.a`, JSON.stringify({ i: 0 }), { msgID: 'm0' });
      expect(dup.duplicate).toBe(true);

      const consumer = await js.consumers.get(stream, 'reader');
      const seen: number[] = [];
      const batch = await consumer.fetch({ max_messages: 10, expires: 1000 });
      for await (const m of batch) {
        seen.push(m.json<{ i: number }>().i);
        m.ack();
      }
      // Subject "c" is filtered out: 0,1,3,4,6,7,9 remain.
      expect(seen).toEqual([0, 1, 3, 4, 6, 7, 9]);
      expect((await consumer.info()).num_ack_pending).toBe(0);
    } finally {
      await jsm.streams.delete(stream);
    }
  });

  it('has pgvector >= 0.8 from the migrations, which are idempotent', async () => {
    await runMigrations(db);
    const [row] = await db.sql<{ extversion: string }[]>`
      SELECT extversion FROM pg_extension WHERE extname = 'vector'`;
    const [major, minor] = row!.extversion.split('.').map(Number);
    expect(major! * 100 + minor!).toBeGreaterThanOrEqual(8);
  });

  it('inserts and queries 384-d vectors through drizzle with an HNSW index', async () => {
    const items = pgTable(
      'smoke_items',
      {
        id: integer('id').primaryKey(),
        embedding: vector('embedding', { dimensions: 384 }).notNull(),
      },
      (t) => [index('smoke_items_hnsw').using('hnsw', t.embedding.op('vector_cosine_ops'))],
    );
    await db.db.execute(
      sql`CREATE TABLE smoke_items (id integer PRIMARY KEY, embedding vector(384) NOT NULL)`,
    );
    await db.db.execute(
      sql`CREATE INDEX smoke_items_hnsw ON smoke_items USING hnsw (embedding vector_cosine_ops)`,
    );

    // Deterministic pseudo-random unit vectors.
    let seed = 42;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
    const rows = Array.from({ length: 300 }, (_, id) => ({
      id,
      embedding: Array.from({ length: 384 }, rand),
    }));
    await db.db.insert(items).values(rows);

    const query = rows[123]!.embedding;
    const distance = cosineDistance(items.embedding, query);
    const nearest = await db.db.transaction(async (tx) => {
      await tx.execute(sql`SET LOCAL enable_seqscan = off`);
      const plan = await tx.execute<{ 'QUERY PLAN': string }>(
        sql`EXPLAIN SELECT id FROM smoke_items ORDER BY ${distance} LIMIT 5`,
      );
      expect(plan.map((r) => r['QUERY PLAN']).join('\n')).toContain('smoke_items_hnsw');
      return tx.select({ id: items.id, distance }).from(items).orderBy(distance).limit(5);
    });
    expect(nearest[0]!.id).toBe(123);
    expect(Number(nearest[0]!.distance)).toBeLessThan(1e-6);
    expect(nearest).toHaveLength(5);
  });
});
