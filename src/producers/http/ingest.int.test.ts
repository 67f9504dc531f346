import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig, withTopology } from '../../../test/harness/config.js';
import { buildApp } from '../../api/app.js';
import type { Config } from '../../config/index.js';
import { createLogger } from '../../logger.js';
import { streamName } from '../../topology/index.js';
import { Producer } from '../sdk/index.js';

describe('POST /v1/events on a real nats-server', () => {
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let config: Config;
  let cleanup: () => Promise<void>;
  let app: FastifyInstance;

  beforeAll(async () => {
    config = testConfig({ httpBodyLimit: 64 * 1024 });
    nc = await connect({ servers: config.natsUrl });
    jsm = await jetstreamManager(nc);
    cleanup = await withTopology(nc, config);
    const producer = new Producer({ nc, namespace: config.namespace });
    app = await buildApp({
      logger: createLogger({ level: 'silent' }),
      bodyLimit: config.httpBodyLimit,
      auth: { mode: 'off', tenant: 'bench' },
      ingest: { producer, maxEvents: 5 },
    });
  });
  afterAll(async () => {
    await app?.close();
    await cleanup?.();
    await nc?.close();
  });

  const stored = async (): Promise<number> =>
    (await jsm.streams.info(streamName(config.namespace, 'events'))).state.messages;
  let n = 0;
  const event = (data: Record<string, unknown> = {}, attrs: Record<string, unknown> = {}) => ({
    specversion: '1.0',
    id: `http-${++n}`,
    source: 'urn:test',
    type: 'sluice.document.upserted.v1',
    ...attrs,
    data: { tenant: 'acme', collection: 'docs', documentId: `doc-${n}`, text: 'hello', ...data },
  });
  const post = (
    payload: string,
    contentType = 'application/json',
    headers: Record<string, string> = {},
  ) =>
    app.inject({
      method: 'POST',
      url: '/v1/events',
      payload,
      headers: { 'content-type': contentType, ...headers },
    });

  it('accepts one event (202) and answers a re-sent one as a duplicate', async () => {
    const before = await stored();
    const e = event();
    const first = await post(JSON.stringify(e));
    expect(first.statusCode).toBe(202);
    expect(first.json()).toMatchObject({
      accepted: 1,
      results: [{ index: 0, id: e.id, status: 'accepted' }],
    });
    expect(first.json().results[0].version).toBeGreaterThan(0);
    const again = await post(JSON.stringify(e), 'application/cloudevents+json');
    expect(again.statusCode).toBe(202);
    expect(again.json()).toMatchObject({ duplicate: 1, results: [{ status: 'duplicate' }] });
    expect(await stored()).toBe(before + 1);
  });

  it('refuses a callbackUrl the outbound guard refuses, in every spelling, and stores none of them', async () => {
    const before = await stored();
    const urls = [
      'http://127.0.0.1:9/cb',
      'http://2130706433:9/cb',
      'http://0x7f.1:9/cb',
      'http://[::ffff:7f00:1]:9/cb',
      'http://0.0.0.0:9/cb',
      'http://localhost:9/cb',
      'http://169.254.169.254/latest/meta-data',
      'http://[64:ff9b::a9fe:a9fe]/',
    ];
    // Four refused and one public per request (the cap here is five events).
    for (let b = 0; b < urls.length; b += 4) {
      const some = urls.slice(b, b + 4);
      const lines = [
        ...some.map((callbackUrl) => JSON.stringify(event({ callbackUrl }))),
        JSON.stringify(event({ callbackUrl: 'https://8.8.8.8/cb' })),
      ].join('\n');
      const res = await post(lines, 'application/x-ndjson');
      expect(res.statusCode).toBe(207);
      const results = res.json().results as {
        status: string;
        error?: { code: string; pointer: string };
      }[];
      some.forEach((url, i) =>
        expect(results[i], url).toMatchObject({
          status: 'rejected',
          error: { code: 'WEBHOOK_TARGET_REFUSED', pointer: '/data/callbackUrl' },
        }),
      );
      expect(results[some.length]!.status).toBe('accepted');
    }
    expect(await stored()).toBe(before + 2);
    const single = await post(JSON.stringify(event({ callbackUrl: 'http://2130706433/cb' })));
    expect(single.statusCode).toBe(400);
    expect(single.json().error.code).toBe('WEBHOOK_TARGET_REFUSED');
  });

  it('refuses a batch over the event cap before publishing any of it', async () => {
    const before = await stored();
    const lines = Array.from({ length: 6 }, () => JSON.stringify(event())).join('\n');
    const res = await post(lines, 'application/x-ndjson');
    expect(res.statusCode).toBe(413);
    expect(res.json().error).toMatchObject({
      code: 'BATCH_TOO_LARGE',
      details: { events: 6, limit: 5 },
    });
    expect(await stored()).toBe(before);
    const five = Array.from({ length: 5 }, () => JSON.stringify(event())).join('\n');
    expect((await post(five, 'application/x-ndjson')).statusCode).toBe(202);
  });

  it('deduplicates ids per tenant and source: another tenant reusing an id is stored', async () => {
    const before = await stored();
    const a = event({ tenant: 'acme', documentId: 'a-doc' });
    const b = { ...a, data: { ...a.data, tenant: 'beta', documentId: 'b-doc' } };
    const fromA = (await post(JSON.stringify(a))).json();
    const fromB = (await post(JSON.stringify(b))).json();
    expect(fromA.results[0].status).toBe('accepted');
    // Same id, other tenant: a new event with its own version, nothing of acme's.
    expect(fromB.results[0].status).toBe('accepted');
    expect(fromB.results[0].version).not.toBe(fromA.results[0].version);
    // Same id and tenant, another source: a different event too.
    const otherSource = (await post(JSON.stringify({ ...a, source: 'urn:other' }))).json();
    expect(otherSource.results[0].status).toBe('accepted');
    // Same tenant, source and id: the duplicate answers with the tenant's own version.
    const again = (await post(JSON.stringify(b))).json();
    expect(again.results[0]).toMatchObject({
      status: 'duplicate',
      version: fromB.results[0].version,
    });
    expect(await stored()).toBe(before + 3);
  });

  it.each([
    ['bad JSON', '{"specversion": "1.0",', 'application/json', 400, 'JSON_INVALID'],
    [
      'a wrong type',
      JSON.stringify(event({ title: 42 })),
      'application/json',
      400,
      'EVENT_INVALID',
    ],
    [
      'an unknown event type',
      JSON.stringify(event({}, { type: 'sluice.document.shredded.v1' })),
      'application/json',
      400,
      'EVENT_TYPE_UNKNOWN',
    ],
    [
      'an oversized body',
      JSON.stringify(event({ text: 'x'.repeat(80 * 1024) })),
      'application/json',
      413,
      'BODY_TOO_LARGE',
    ],
    [
      'a NUL in the text (PDF extraction)',
      JSON.stringify(event({ text: 'page 1\u0000page 2' })),
      'application/json',
      400,
      'EVENT_INVALID',
    ],
    [
      'a lone surrogate in the title',
      JSON.stringify(event({ title: 'broken \ud83d title' })),
      'application/json',
      400,
      'EVENT_INVALID',
    ],
    [
      'a client-supplied claim check (textRef)',
      JSON.stringify({
        ...event(),
        data: {
          tenant: 'acme',
          collection: 'docs',
          documentId: 'stolen',
          textRef: { bucket: 'B', name: 'other/tenant/body', size: 1, sha256: '0'.repeat(64) },
        },
      }),
      'application/json',
      400,
      'EVENT_INVALID',
    ],
    [
      'an impossible time (year 0000)',
      JSON.stringify(event({}, { time: '0000-01-01T00:00:00Z' })),
      'application/json',
      400,
      'EVENT_INVALID',
    ],
    ['an empty NDJSON batch', '\n\n', 'application/x-ndjson', 400, 'BATCH_EMPTY'],
    ['an empty JSON array', '[]', 'application/cloudevents-batch+json', 400, 'BATCH_EMPTY'],
    ['an empty body', '', 'application/json', 400, 'BATCH_EMPTY'],
    ['an unsupported Content-Type', 'hello', 'text/plain', 415, 'MEDIA_TYPE_UNSUPPORTED'],
  ])(
    'answers %s with a clear error and stores nothing',
    async (_what, body, type, status, code) => {
      const before = await stored();
      const res = await post(body, type);
      expect(res.statusCode).toBe(status);
      expect(res.json().error.code).toBe(code);
      expect(typeof res.json().error.message).toBe('string');
      expect(await stored()).toBe(before);
    },
  );

  it('points at the bad field with a JSON pointer', async () => {
    const res = await post(JSON.stringify(event({ tenant: 'Not A Token' })));
    expect(res.json()).toMatchObject({
      rejected: 1,
      results: [{ status: 'rejected', error: { code: 'EVENT_INVALID', pointer: '/data/tenant' } }],
      error: { code: 'EVENT_INVALID', details: { pointer: '/data/tenant' } },
    });
  });

  it('answers an NDJSON batch event by event (207 when mixed) and stores only the good ones', async () => {
    const before = await stored();
    const lines = [
      JSON.stringify(event()),
      '{not json',
      JSON.stringify(event({ collection: 'UPPER' })),
      JSON.stringify(event()),
    ];
    const res = await post(lines.join('\n'), 'application/x-ndjson');
    expect(res.statusCode).toBe(207);
    const body = res.json();
    expect(body).toMatchObject({ accepted: 2, rejected: 2, failed: 0 });
    expect(body.results.map((r: { status: string }) => r.status)).toEqual([
      'accepted',
      'rejected',
      'rejected',
      'accepted',
    ]);
    expect(body.results[1].error).toMatchObject({
      code: 'JSON_INVALID',
      message: expect.stringContaining('line 2'),
    });
    expect(body.results[2].error).toMatchObject({
      code: 'EVENT_INVALID',
      pointer: '/data/collection',
    });
    expect(await stored()).toBe(before + 2);
  });

  it('accepts a JSON array batch', async () => {
    const res = await post(
      JSON.stringify([event(), event()]),
      'application/cloudevents-batch+json',
    );
    expect(res.statusCode).toBe(202);
    expect(res.json().accepted).toBe(2);
  });

  it('answers a stale write (Sluice-Expected-Version) with 409 VERSION_CONFLICT', async () => {
    const e = event({ documentId: 'versioned' });
    const v1 = (
      await post(JSON.stringify(e), 'application/json', { 'sluice-expected-version': '0' })
    ).json().results[0].version;
    const ok = await post(JSON.stringify({ ...e, id: 'v2' }), 'application/json', {
      'sluice-expected-version': String(v1),
    });
    expect(ok.statusCode).toBe(202);
    const stale = await post(JSON.stringify({ ...e, id: 'v3' }), 'application/json', {
      'sluice-expected-version': String(v1),
    });
    expect(stale.statusCode).toBe(409);
    expect(stale.json().error.code).toBe('VERSION_CONFLICT');
  });

  it('answers unknown routes with 404 NOT_FOUND', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/nothing' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('NOT_FOUND');
  });
});
