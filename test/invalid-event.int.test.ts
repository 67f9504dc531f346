import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from '../src/app/start.js';
import type { Config } from '../src/config/index.js';
import { DeadLetters } from '../src/dead-letters/index.js';
import { PipelinePublisher } from '../src/runtime/publisher.js';
import { createLogger } from '../src/logger.js';
import { deleteNamespace, durables, projections, streamName } from '../src/topology/index.js';
import { createTestDatabase, type TestDatabase } from './harness/database.js';
import { pipelineConfig, until } from './harness/pipeline.js';

/**
 * A foreign client's broken event reaches every durable of the events stream. It must
 * end as one dead letter with a stable code, and block none of them.
 */
describe('one bad event, one dead letter', () => {
  let db: TestDatabase;
  let nc: NatsConnection;
  let config: Config;
  let app: RunningApp;

  beforeAll(async () => {
    db = await createTestDatabase();
    config = pipelineConfig(db.url, { roles: ['chunker', 'projector'] });
    app = await startApp(config, createLogger({ level: 'silent' }), { handleSignals: false });
    nc = await connect({ servers: config.natsUrl });
  }, 120_000);
  afterAll(async () => {
    await app?.stop();
    await deleteNamespace(nc, config.namespace);
    await nc?.close();
    await db?.drop();
  });

  it.each([
    ['broken JSON', '{"specversion": "1.0", "id":', 'EVENT_INVALID', /not valid JSON/],
    ['a NUL in the text', 'NUL', 'EVENT_INVALID', /\/data\/text must not contain NUL/],
  ])(
    '%s published straight to the stream: one dead letter',
    async (_what, raw, code, why) => {
      const js = jetstream(nc);
      const ns = config.namespace;
      const payload =
        raw === 'NUL'
          ? JSON.stringify({
              specversion: '1.0',
              id: `nul-${Date.now()}`,
              source: 'urn:foreign',
              type: 'sluice.document.upserted.v1',
              data: { tenant: 'acme', collection: 'docs', documentId: 'n', text: 'a\u0000b' },
            })
          : raw;
      const structured = headers();
      structured.set('content-type', 'application/cloudevents+json');
      const ack = await js.publish(`${ns}.events.acme.docs.n`, payload, { headers: structured });
      const letters = new DeadLetters(nc, ns, new PipelinePublisher({ nc, source: 'urn:test' }));
      const mine = async () =>
        (await letters.list()).items.filter(
          (l) => l.seq === ack.seq && l.stream === streamName(ns, 'events'),
        );
      await until(async () => (await mine()).length > 0, 30_000, 'a dead letter');
      // Every durable of the events stream is past the message, none left it pending …
      const jsm = await jetstreamManager(nc);
      const events = streamName(ns, 'events');
      for (const durable of [
        durables.chunker,
        ...projections.map((p) => durables.projection(p, 'events')),
      ])
        await until(async () => {
          const info = await jsm.consumers.info(events, durable);
          return info.ack_floor.stream_seq >= ack.seq && info.num_ack_pending === 0;
        });
      // … and only one of them wrote a letter.
      const found = await mine();
      expect(found).toHaveLength(1);
      expect(found[0]).toMatchObject({ consumer: durables.chunker, code });
      expect(found[0]!.message).toMatch(why);
    },
    60_000,
  );
});
