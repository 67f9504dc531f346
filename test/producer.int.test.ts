import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventTypes, fromMessage, validateEvent } from '../src/contracts/index.js';
import type { Config } from '../src/config/index.js';
import { isSluiceError } from '../src/errors/index.js';
import { packageRoot } from '../src/paths.js';
import { ClaimCheck, Producer, dedupeId, type BatchResult } from '../src/producers/sdk/index.js';
import { applyTopology, bodiesBucket, declareTopology, streamName } from '../src/topology/index.js';
import { testConfig, withTopology } from './harness/config.js';
import { startNatsServer } from './harness/servers.js';

const fixtures = join(packageRoot, 'schemas/fixtures');
const readJson = (p: string): Record<string, unknown> =>
  JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;

describe('producer SDK on a real nats-server', () => {
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let config: Config;
  let cleanup: () => Promise<void>;
  let producer: Producer;

  beforeAll(async () => {
    config = testConfig();
    nc = await connect({ servers: config.natsUrl });
    jsm = await jetstreamManager(nc);
  });
  afterAll(async () => {
    await nc.close();
  });
  const setup = async (overrides: Partial<Config> = {}): Promise<void> => {
    config = testConfig(overrides);
    cleanup = await withTopology(nc, config);
    producer = new Producer({
      nc,
      namespace: config.namespace,
      claimCheckBytes: config.claimCheckBytes,
    });
  };
  afterEach(async () => cleanup?.());

  const stored = async (): Promise<number> =>
    (await jsm.streams.info(streamName(config.namespace, 'events'))).state.messages;
  const doc = (documentId: string, text = 'hello') =>
    producer.event('sluice.document.upserted.v1', {
      tenant: 'acme',
      collection: 'docs',
      documentId,
      text,
    });

  it('publishes every valid fixture in CloudEvents binary mode, on its document subject', async () => {
    await setup();
    // Ingest types only: pipeline events (chunks, vectors, status) are never accepted.
    const publicDirs = Object.values(eventTypes).map((t) => `${t.name}.v${t.version}`);
    const files = readdirSync(fixtures)
      .filter((d) => publicDirs.includes(d))
      .flatMap((d) =>
        readdirSync(join(fixtures, d, 'valid')).map((f) => join(fixtures, d, 'valid', f)),
      );
    // The claim-checked fixture points at a body this server does not have; skip it here.
    const events = files
      .filter((f) => !f.includes('claim-checked'))
      .map((f, i) => ({ ...readJson(f), id: `fx-${i}` }));
    for (const e of events) await producer.publish(e);
    expect(await stored()).toBe(events.length);

    const m = await jsm.streams.getMessage(streamName(config.namespace, 'events'), { seq: 1 });
    expect(m!.subject).toMatch(
      new RegExp(`^${config.namespace}\\.events\\.[a-z0-9_-]+\\.[a-z0-9_-]+\\.`),
    );
    expect(m!.header.get('ce-specversion')).toBe('1.0');
    // Deduplicated within its tenant and source, not by the bare id.
    expect(m!.header.get('Nats-Msg-Id')).toBe(
      dedupeId(events[0] as Parameters<typeof dedupeId>[0]),
    );
    const back = validateEvent(fromMessage({ headers: m!.header, data: m!.data }));
    expect(back.id).toBe('fx-0');
    expect(back.dataschema).toMatch(/^urn:sluice:schema:/);
  });

  it('stores an event published twice once (message id = event id)', async () => {
    await setup();
    const e = doc('d1');
    const a = await producer.publish(e);
    const b = await producer.publish(e);
    expect(a.duplicate).toBe(false);
    expect(b).toMatchObject({ duplicate: true, seq: a.seq });
    expect(await stored()).toBe(1);
  });

  it('refuses a stale writer with VERSION_CONFLICT (expected version = last subject sequence)', async () => {
    await setup();
    const v1 = await producer.publish(doc('d1', 'one'), { expectedVersion: 0 });
    const v2 = await producer.publish(doc('d1', 'two'), { expectedVersion: v1.seq });
    await producer.publish(doc('other'));
    let err: unknown;
    try {
      await producer.publish(doc('d1', 'stale'), { expectedVersion: v1.seq });
    } catch (e) {
      err = e;
    }
    expect(isSluiceError(err, 'VERSION_CONFLICT')).toBe(true);
    expect((err as { details: unknown }).details).toEqual({ expected: v1.seq, actual: v2.seq });
    await expect(producer.publish(doc('d1', 'new?'), { expectedVersion: 0 })).rejects.toThrow(
      /version/,
    );
    expect(await stored()).toBe(3);
  });

  it('claim-checks a large text into the object store and round-trips it', async () => {
    await setup();
    const text = `${'Lorem ipsum dolor sit amet. '.repeat(40_000)}end`; // ~1.1 MB, over max_payload
    const r = await producer.publish(doc('big', text));
    const m = await jsm.streams.getMessage(streamName(config.namespace, 'events'), { seq: r.seq });
    expect(m!.data.length).toBeLessThan(2048);
    const event = validateEvent(fromMessage({ headers: m!.header, data: m!.data }));
    if (event.type !== 'sluice.document.upserted.v1') throw new Error('wrong type');
    expect(event.data.text).toBeUndefined();
    expect(event.data.textRef).toMatchObject({
      bucket: bodiesBucket(config.namespace),
      size: Buffer.byteLength(text),
    });
    expect(await new ClaimCheck(nc, bodiesBucket(config.namespace)).get(event.data.textRef!)).toBe(
      text,
    );
  });

  it('rejects bad events before publishing: nothing is stored', async () => {
    await setup();
    const bad = [
      { ...doc('x'), data: { tenant: 'ACME', collection: 'docs', documentId: 'x', text: 't' } },
      { ...doc('x'), type: 'sluice.document.exploded.v1' },
      { ...doc('x'), tenant: 'someone-else' },
      'not an event',
    ];
    const results: BatchResult[] = [];
    const summary = await producer.publishBatch(bad, { onResult: (r) => results.push(r) });
    expect(summary).toMatchObject({ total: 4, rejected: 4, accepted: 0 });
    expect(
      results.sort((a, b) => a.index - b.index).map((r) => [r.error?.code, r.error?.pointer]),
    ).toEqual([
      ['EVENT_INVALID', '/data/tenant'],
      ['EVENT_TYPE_UNKNOWN', '/type'],
      ['EVENT_INVALID', '/tenant'],
      ['EVENT_INVALID', ''],
    ]);
    expect(await stored()).toBe(0);
  });

  it('stores every event of a 10k batch exactly once across a nats-server restart', async () => {
    const server = await startNatsServer();
    const own = await connect({
      servers: server.url,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 100,
    });
    try {
      const cfg = testConfig({ natsUrl: [server.url] });
      await applyTopology(await jetstreamManager(own), own, declareTopology(cfg));
      const p = new Producer({
        nc: own,
        namespace: cfg.namespace,
        retryDeadlineMs: 60_000,
        ackTimeoutMs: 2_000,
      });
      const N = 10_000;
      let acked = 0;
      let restarted: Promise<void> | undefined;
      const events = Array.from({ length: N }, (_, i) =>
        p.event('sluice.document.upserted.v1', {
          tenant: 't',
          collection: 'c',
          documentId: `doc-${i}`,
          text: `text ${i}`,
        }),
      );
      const summary = await p.publishBatch(events, {
        maxInFlight: 128,
        onResult: (r) => {
          if (r.status === 'accepted' && ++acked === 2_000) {
            restarted = (async () => {
              await server.kill();
              await new Promise((res) => setTimeout(res, 500));
              await server.start();
            })();
          }
        },
      });
      expect(restarted, 'the server was restarted mid-batch').toBeDefined();
      await restarted;
      expect(p.retries, 'publishes were retried through the restart').toBeGreaterThan(0);
      expect(summary.failed + summary.rejected).toBe(0);
      expect(summary.accepted + summary.duplicate).toBe(N);
      const jsm2 = await jetstreamManager(own);
      const info = await jsm2.streams.info(streamName(cfg.namespace, 'events'));
      expect(info.state.messages).toBe(N);
      // One message per document subject: nothing stored twice.
      expect(info.state.num_subjects).toBe(N);
    } finally {
      await own.close();
      await server.dispose();
    }
  });
});
