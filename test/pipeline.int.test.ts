import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from '../src/app/start.js';
import type { Config } from '../src/config/index.js';
import type { embedderHandler } from '../src/consumers/embedder/embedder-handler.js';
import { DeadLetters } from '../src/dead-letters/index.js';
import { PipelinePublisher } from '../src/runtime/publisher.js';
import { createLogger } from '../src/logger.js';
import { modelKey } from '../src/models/index.js';
import { ClaimCheck, Producer, claimCheckPrefix } from '../src/producers/index.js';
import { Subjects, bodiesBucket, streamName, deleteNamespace } from '../src/topology/index.js';
import { createTestDatabase, type TestDatabase } from './harness/database.js';
import { indexedDocs, pipelineConfig, pipelineModel, until } from './harness/pipeline.js';

const paragraph = (topic: string, i: number): string =>
  `${topic} paragraph ${i}. The ${topic} system processes requests and stores results for later. ` +
  `Operators watch the ${topic} dashboards and adjust limits when traffic grows.`;
const docText = (topic: string, paragraphs: number): string =>
  `# ${topic}\n\n${Array.from({ length: paragraphs }, (_, i) => paragraph(topic, i)).join('\n\n')}`;

describe('pipeline: chunker → embedder → indexer on real servers', () => {
  let db: TestDatabase;
  let nc: NatsConnection;
  let config: Config;
  let app: RunningApp;
  let producer: Producer;
  const embedded = () =>
    (
      app.roles.find((r) => r.name === 'embedder') as unknown as {
        handlers: ReturnType<typeof embedderHandler>[];
      }
    ).handlers[0]!.stats;

  beforeAll(async () => {
    db = await createTestDatabase();
    config = pipelineConfig(db.url, {
      roles: ['chunker', 'embedder', 'indexer', 'projector'],
    });
    app = await startApp(config, createLogger({ level: 'silent' }), { handleSignals: false });
    nc = await connect({ servers: config.natsUrl });
    producer = new Producer({
      nc,
      namespace: config.namespace,
      claimCheckBytes: config.claimCheckBytes,
    });
  }, 120_000);
  afterAll(async () => {
    await app?.stop();
    await deleteNamespace(nc, config.namespace);
    await nc?.close();
    await db?.drop();
  });

  const upsert = (documentId: string, text: string) =>
    producer.publish(
      producer.event('sluice.document.upserted.v1', {
        tenant: 'acme',
        collection: 'docs',
        documentId,
        text,
        mimeType: 'text/markdown',
        title: documentId,
      }),
    );

  it('indexes published documents: every chunk with its vector, counts right', async () => {
    const topics = ['billing', 'search', 'storage', 'network', 'auth', 'queue', 'cache', 'deploy'];
    const versions = new Map<string, number>();
    for (const [i, t] of topics.entries())
      versions.set(`doc-${i}`, (await upsert(`doc-${i}`, docText(t, 3 + i * 3))).seq);
    await until(async () => {
      const docs = await indexedDocs(db.sql);
      return topics.every(
        (_, i) =>
          docs.get(`doc-${i}`)?.version === versions.get(`doc-${i}`) &&
          docs.get(`doc-${i}`)!.rows === docs.get(`doc-${i}`)!.chunk_count,
      );
    });
    const docs = await indexedDocs(db.sql);
    for (const d of docs.values()) {
      expect(d.rows).toBe(d.chunk_count);
      expect(d.max_index).toBe(d.chunk_count - 1);
      expect(d.stale_rows).toBe(0);
    }
    expect(docs.get('doc-7')!.chunk_count).toBeGreaterThan(docs.get('doc-0')!.chunk_count);
    const vectors = await db.sql<{ dims: number; model: string }[]>`
      SELECT vector_dims(embedding) AS dims, min(model_id) AS model FROM index_chunks GROUP BY 1`;
    expect(vectors).toHaveLength(1);
    expect(vectors[0]!.dims).toBe(384);
    expect(vectors[0]!.model).toMatch(new RegExp(`^${pipelineModel}@[0-9a-f]{12}$`));
    // Vectors are unit length (cosine-ready).
    const notUnit = await db.sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM index_chunks WHERE abs(vector_norm(embedding) - 1) > 1e-4`;
    const n = notUnit[0]!.n;
    expect(n).toBe(0);
  });

  it('embeds nothing again for a document whose text did not change, and adds no rows', async () => {
    const before = embedded().computed;
    const rowsBefore = (
      await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM index_chunks`
    )[0]!.n;
    const v = (await upsert('doc-3', docText('network', 12))).seq;
    await until(async () => (await indexedDocs(db.sql)).get('doc-3')?.version === v);
    expect(embedded().computed).toBe(before);
    expect(embedded().hits).toBeGreaterThan(0);
    expect((await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM index_chunks`)[0]!.n).toBe(
      rowsBefore,
    );
  });

  it('drops the chunks that vanished when an update shortens a document', async () => {
    const long = (await indexedDocs(db.sql)).get('doc-7')!;
    expect(long.chunk_count).toBeGreaterThan(1);
    const v = (await upsert('doc-7', 'Now just one short line.')).seq;
    await until(async () => (await indexedDocs(db.sql)).get('doc-7')?.version === v);
    const d = (await indexedDocs(db.sql)).get('doc-7')!;
    expect(d).toMatchObject({ chunk_count: 1, rows: 1, max_index: 0, stale_rows: 0 });
    const [row] = await db.sql<
      { text: string }[]
    >`SELECT text FROM index_chunks WHERE document_id = 'doc-7'`;
    expect(row!.text).toBe('Now just one short line.');
  });

  it('deletes a document, and a late older update cannot bring it back', async () => {
    const subjects = new Subjects(config.namespace);
    const vectorsSubject = subjects.vectors(modelKey(pipelineModel), {
      tenant: 'acme',
      collection: 'docs',
      documentId: 'doc-5',
    });
    const jsm = await jetstreamManager(nc);
    const older = await jsm.streams.getMessage(streamName(config.namespace, 'vectors'), {
      last_by_subj: vectorsSubject,
    });

    const del = await producer.publish(
      producer.event('sluice.document.deleted.v1', {
        tenant: 'acme',
        collection: 'docs',
        documentId: 'doc-5',
      }),
    );
    await until(async () => (await indexedDocs(db.sql)).get('doc-5')?.deleted === true);
    expect((await indexedDocs(db.sql)).get('doc-5')).toMatchObject({ version: del.seq, rows: 0 });

    // The older version's vectors arrive late (a slow embedder, a replay): ignored.
    const late = await jetstream(nc).publish(vectorsSubject, older!.data, {
      headers: older!.header,
      msgID: 'late-older-doc-5',
    });
    // The indexer has handled it (acknowledged it, or something after it).
    await until(
      async () =>
        (await jsm.consumers.info(streamName(config.namespace, 'vectors'), 'indexer')).ack_floor
          .stream_seq >= late.seq,
    );
    expect((await indexedDocs(db.sql)).get('doc-5')).toMatchObject({
      deleted: true,
      version: del.seq,
      rows: 0,
    });
  });

  it('dead-letters a poison message on its first attempt, with the reason', async () => {
    const letters = new DeadLetters(
      nc,
      config.namespace,
      new PipelinePublisher({ nc, source: 'urn:test' }),
    );
    await jetstream(nc).publish(
      `${config.namespace}.events.acme.docs.poison`,
      '{"not": "a cloudevent"',
      { msgID: 'poison-1' },
    );
    await until(async () =>
      (await letters.list({ consumer: 'chunker' })).items.some((l) =>
        l.subject.endsWith('.poison'),
      ),
    );
    const letter = (await letters.list({ consumer: 'chunker' })).items.find((l) =>
      l.subject.endsWith('.poison'),
    )!;
    expect(letter).toMatchObject({ consumer: 'chunker', code: 'EVENT_INVALID', attempts: 1 });
    expect(letter.message).toMatch(/not valid JSON/);
    const detail = await letters.show(letter.id);
    expect(detail!.history).toHaveLength(1);
    expect(detail!.dataEncoding).toBe('base64');
  });

  it('redrives a dead letter once its cause is fixed, and it is indexed', async () => {
    const letters = new DeadLetters(
      nc,
      config.namespace,
      new PipelinePublisher({ nc, source: 'urn:test' }),
    );
    const text = docText('archive', 4);
    const bytes = Buffer.from(text);
    const ref = {
      bucket: bodiesBucket(config.namespace),
      name: `${claimCheckPrefix({ tenant: 'acme', collection: 'docs', documentId: 'archived' })}late-body`,
      size: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    };
    // Claim checks are the producer's own, so a reference arrives only straight on the
    // stream. This one points at a body that is not stored yet: a permanent failure.
    const js = jetstream(nc);
    const event = (documentId: string, textRef: typeof ref) =>
      JSON.stringify(
        producer.event('sluice.document.upserted.v1', {
          tenant: 'acme',
          collection: 'docs',
          documentId,
          textRef,
        }),
      );
    const subject = (documentId: string) =>
      new Subjects(config.namespace).event({ tenant: 'acme', collection: 'docs', documentId });
    const structured = headers();
    structured.set('content-type', 'application/cloudevents+json');
    const r = await js.publish(subject('archived'), event('archived', ref), {
      headers: structured,
    });
    // Another reference points at a body that exists but is not this document's.
    await js.publish(subject('thief'), event('thief', ref), { headers: structured });
    await until(async () =>
      (await letters.list({ consumer: 'chunker' })).items.some(
        (l) => l.document?.documentId === 'thief',
      ),
    );
    expect(
      (await letters.list({ consumer: 'chunker' })).items.find(
        (l) => l.document?.documentId === 'thief',
      ),
    ).toMatchObject({ code: 'TEXT_REF_INVALID', attempts: 1 });
    await until(async () =>
      (await letters.list({ consumer: 'chunker' })).items.some(
        (l) => l.document?.documentId === 'archived',
      ),
    );
    const letter = (await letters.list({ consumer: 'chunker' })).items.find(
      (l) => l.document?.documentId === 'archived',
    )!;
    expect(letter.code).toBe('TEXT_REF_INVALID');
    const status = async (): Promise<string | undefined> =>
      (
        await db.sql<{ status: string }[]>`
          SELECT status FROM proj_documents WHERE document_id = 'archived'`
      )[0]?.status;
    await until(async () => (await status()) === 'failed');

    await new ClaimCheck(nc, ref.bucket).put(ref.name, text); // the fix
    expect(await letters.redrive({ ids: [letter.id] })).toEqual({
      redriven: [letter.id],
      failed: [],
    });
    await until(async () => {
      const d = (await indexedDocs(db.sql)).get('archived');
      return d?.version === r.seq && d.rows === d.chunk_count && d.rows > 0;
    });
    expect(
      (await letters.list({ consumer: 'chunker' })).items.some((l) => l.id === letter.id),
    ).toBe(false);
    // The read model follows: the version that failed and was redriven is indexed now.
    await until(async () => (await status()) === 'indexed');
  });
});
