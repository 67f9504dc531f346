import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from '../src/app/start.js';
import type { Config } from '../src/config/index.js';
import { chunkId } from '../src/consumers/chunker/chunker.js';
import { PipelinePublisher } from '../src/runtime/publisher.js';
import { createHash } from 'node:crypto';
import { createLogger } from '../src/logger.js';
import { Producer } from '../src/producers/index.js';
import { getDocument, listCollections } from '../src/projections/index.js';
import {
  Subjects,
  durables,
  projections,
  retryDurable,
  streamName,
  deleteNamespace,
} from '../src/topology/index.js';
import { createTestDatabase, type TestDatabase } from './harness/database.js';
import { pipelineConfig, until, untilIdle } from './harness/pipeline.js';

/**
 * A whole table as JSON rows, without the column that records when a row was written:
 * compared with toEqual, a difference names the row and the column.
 */
async function tableRows(db: TestDatabase, table: string, order: string): Promise<unknown[]> {
  const rows = await db.sql.unsafe<{ row: unknown }[]>(
    `SELECT to_jsonb(t) - 'updated_at' AS row FROM ${table} t ORDER BY ${order}`,
  );
  return rows.map((r) => r.row);
}

describe('projections: documents and collections read models', () => {
  let db: TestDatabase;
  let nc: NatsConnection;
  let config: Config;
  let app: RunningApp;
  let producer: Producer;

  beforeAll(async () => {
    db = await createTestDatabase();
    config = pipelineConfig(db.url, { roles: ['chunker', 'embedder', 'indexer', 'projector'] });
    app = await startApp(config, createLogger({ level: 'silent' }), { handleSignals: false });
    nc = await connect({ servers: config.natsUrl });
    producer = new Producer({ nc, namespace: config.namespace });
  }, 120_000);
  afterAll(async () => {
    await app?.stop();
    await deleteNamespace(nc, config.namespace);
    await nc?.close();
    await db?.drop();
  });

  const upsert = (collection: string, documentId: string, text: string) =>
    producer.publish(
      producer.event('sluice.document.upserted.v1', {
        tenant: 'acme',
        collection,
        documentId,
        text,
        title: documentId,
      }),
    );
  const caughtUp = async (): Promise<boolean> => {
    const jsm = await jetstreamManager(nc);
    for (const p of projections) {
      for (const s of ['events', 'status'] as const) {
        const i = await jsm.consumers.info(
          streamName(config.namespace, s),
          durables.projection(p, s),
        );
        if (i.num_pending > 0 || i.num_ack_pending > 0) return false;
      }
    }
    return true;
  };

  it('follows documents through their stages and counts collections', async () => {
    for (let i = 0; i < 12; i++)
      await upsert(i % 2 ? 'odd' : 'even', `doc-${i}`, `Document ${i}. `.repeat(20 + i * 30));
    const del = await producer.publish(
      producer.event('sluice.document.deleted.v1', {
        tenant: 'acme',
        collection: 'even',
        documentId: 'doc-0',
      }),
    );
    await until(async () => {
      const docs = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          getDocument(db.sql, 'acme', i % 2 ? 'odd' : 'even', `doc-${i}`),
        ),
      );
      return docs[0]?.status === 'deleted' && docs.slice(1).every((d) => d?.status === 'indexed');
    });
    const d = (await getDocument(db.sql, 'acme', 'odd', 'doc-11'))!;
    expect(d.chunkCount).toBeGreaterThan(1);
    expect(d.stages.received! <= d.stages.chunked!).toBe(true);
    expect((await getDocument(db.sql, 'acme', 'even', 'doc-0'))!).toMatchObject({
      status: 'deleted',
      version: del.seq,
      bytes: 0,
    });

    await until(caughtUp);
    const cols = await listCollections(db.sql, 'acme');
    const [{ n: chunksOdd }] = (await db.sql<{ n: number }[]>`
      SELECT sum(chunk_count)::int AS n FROM proj_documents WHERE collection = 'odd' AND status = 'indexed'`) as unknown as [
      { n: number },
    ];
    expect(cols).toEqual([
      expect.objectContaining({ name: 'even', documentCount: 5 }),
      expect.objectContaining({ name: 'odd', documentCount: 6, chunkCount: chunksOdd }),
    ]);
  });

  it('shows the earlier stages and the error when embedding fails', async () => {
    const r = await upsert('odd', 'broken', 'This text is fine.');
    // A chunks event the model cannot read whole (a foreign chunker, say) for that version.
    const text = 'word '.repeat(600);
    const ref = { tenant: 'acme', collection: 'odd', documentId: 'broken' };
    await new PipelinePublisher({ nc, source: 'urn:test' }).event(
      new Subjects(config.namespace).chunks(ref),
      'sluice.chunks.v1',
      {
        ...ref,
        version: r.seq,
        deleted: false,
        part: 1,
        parts: 2,
        chunkCount: 2,
        document: {},
        chunks: [
          {
            index: 1,
            id: chunkId(ref, 1),
            text,
            headings: [],
            hash: createHash('sha256').update(text).digest('hex'),
            tokens: 600,
            start: 0,
            end: text.length,
          },
        ],
      },
      'broken-part',
    );
    // The chunker's own chunks of this version may be indexed before the foreign part
    // fails, and indexed wins over failed (statusOf): wait for what is asserted, the
    // error and the stages before it, whichever status the race left.
    await until(async () => {
      const doc = await getDocument(db.sql, 'acme', 'odd', 'broken');
      return (
        doc?.lastError?.code === 'CHUNK_TOO_LONG' &&
        doc.stages.received !== null &&
        doc.stages.chunked !== null
      );
    });
    const d = (await getDocument(db.sql, 'acme', 'odd', 'broken'))!;
    expect(d.stages.received).not.toBeNull();
    expect(d.stages.chunked).not.toBeNull();
    expect(d.lastError).toMatchObject({
      code: 'CHUNK_TOO_LONG',
      consumer: durables.embedder(config.models[0]!),
    });
  });

  it('changes nothing when every event is delivered a second time', async () => {
    // Every stage done, not only the projections: a status still on its way would land in
    // the second look and not in the first.
    await untilIdle(nc, config.namespace);
    const snapshot = async () => ({
      docs: await tableRows(db, 'proj_documents', 'tenant, collection, document_id'),
      colDocs: await tableRows(db, 'proj_collection_docs', 'tenant, collection, document_id'),
      cols: await tableRows(db, 'proj_collections', 'tenant, collection'),
    });
    const before = await snapshot();
    // Forget the projections' consumers: recreated at start, they deliver both streams from the beginning again.
    await app.stop();
    const jsm = await jetstreamManager(nc);
    for (const p of projections) {
      for (const s of ['events', 'status'] as const) {
        await jsm.consumers.delete(streamName(config.namespace, s), durables.projection(p, s));
        await jsm.consumers.delete(
          streamName(config.namespace, 'retry'),
          retryDurable(durables.projection(p, s)),
        );
      }
    }
    app = await startApp({ ...config, roles: ['projector'] }, createLogger({ level: 'silent' }), {
      handleSignals: false,
    });
    // Each projection consumer exists again and acknowledged all it was given.
    const redelivered = async () => {
      for (const p of projections)
        for (const s of ['events', 'status'] as const) {
          const i = await jsm.consumers
            .info(streamName(config.namespace, s), durables.projection(p, s))
            .catch(() => undefined);
          if (!i || i.delivered.stream_seq === 0 || i.num_pending > 0 || i.num_ack_pending > 0)
            return false;
        }
      return true;
    };
    await until(redelivered, 60_000, 'every projection consumer acked its streams again');
    await untilIdle(nc, config.namespace);
    const after = await snapshot();
    expect(after.docs).toEqual(before.docs);
    expect(after.colDocs).toEqual(before.colDocs);
    expect(after.cols).toEqual(before.cols);
  });
});
