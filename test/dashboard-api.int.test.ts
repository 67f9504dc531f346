import { jetstream } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey } from '../src/api/keys.js';
import { Subjects } from '../src/topology/index.js';
import type { Config } from '../src/config/index.js';
import { startTestApp, type TestApp } from './harness/app.js';
import { client } from './harness/http.js';
import { until } from './harness/pipeline.js';

/**
 * The routes the dashboard reads, which the CLI and other clients may use too: who a
 * key is, the pipeline's state (and its stream), a document's events and chunks,
 * models per collection, dead-letter filters.
 */
describe('the dashboard API', () => {
  let t: TestApp;
  let config: Config;
  let address: string;
  const keys = { operator: '', admin: '', reader: '' };
  const as = (k: keyof typeof keys) => t.api(keys[k]);

  beforeAll(async () => {
    t = await startTestApp({
      roles: ['api', 'chunker', 'embedder', 'indexer', 'projector'],
      auth: 'keys',
    });
    ({ config, address } = t);
    keys.operator = (
      await createKey(t.db.sql, { tenant: 'acme', admin: true, operator: true })
    ).key;
    keys.admin = (await createKey(t.db.sql, { tenant: 'acme', admin: true })).key;
    keys.reader = (await createKey(t.db.sql, { tenant: 'acme' })).key;
    const events = [1, 2].map((v) => ({
      specversion: '1.0',
      id: `doc-v${v}`,
      source: 'urn:test',
      type: 'sluice.document.upserted.v1',
      data: {
        tenant: 'acme',
        collection: 'kb',
        documentId: 'doc',
        text: `Version ${v} of the text.`,
      },
    }));
    for (const e of events) expect((await as('admin').post('/v1/events', e)).status).toBe(202);
    await until(
      async () =>
        (await as('reader').get('/v1/documents/kb/doc')).json.status === 'indexed' &&
        (await as('reader').get('/v1/documents/kb/doc')).json.version > 1,
      60_000,
      'version 2 indexed',
    );
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
  });

  it('/v1/me says who a key is', async () => {
    expect((await as('reader').get('/v1/me')).json).toMatchObject({
      tenant: 'acme',
      admin: false,
      operator: false,
      models: config.models,
    });
    expect((await as('operator').get('/v1/me')).json).toMatchObject({
      admin: true,
      operator: true,
    });
    expect((await client(address).get('/v1/me')).status).toBe(401);
  });

  it('/v1/pipeline: every durable and the processes, for operators only', async () => {
    const r = await as('operator').get('/v1/pipeline');
    expect(r.status).toBe(200);
    expect(r.json.durables.find((d: { durable: string }) => d.durable === 'chunker')).toMatchObject(
      {
        stream: expect.stringMatching(/_EVENTS$/),
        pending: 0,
        state: 'ok',
      },
    );
    expect(r.json.processes.map((p: { pid: number }) => p.pid)).toEqual([process.pid]);
    expect((await as('admin').get('/v1/pipeline')).status).toBe(403);
    expect((await as('admin').get('/v1/metrics/history')).status).toBe(403);
    const h = await as('operator').get('/v1/metrics/history?minutes=5');
    expect(h.json).toMatchObject({ intervalMs: 5000, points: expect.any(Array) });
  });

  it('/v1/pipeline/stream sends a reading as a Server-Sent Event', async () => {
    const abort = new AbortController();
    const res = await fetch(`${address}/v1/pipeline/stream`, {
      headers: { authorization: `Bearer ${keys.operator}` },
      signal: abort.signal,
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (!text.includes('\n\n')) text += (await reader.read()).value ?? '';
    abort.abort();
    const [event, data] = text.split('\n');
    expect(event).toBe('event: pipeline');
    expect(JSON.parse(data!.slice('data: '.length))).toMatchObject({ durables: expect.any(Array) });
    expect(
      (
        await fetch(`${address}/v1/pipeline/stream`, {
          headers: { authorization: `Bearer ${keys.reader}` },
        })
      ).status,
    ).toBe(403);
  });

  it("a document's events come from the event log, its chunks from the index", async () => {
    const events = await as('reader').get('/v1/documents/kb/doc/events');
    expect(events.json.items.map((e: { id: string; type: string }) => [e.id, e.type])).toEqual([
      ['doc-v1', 'sluice.document.upserted.v1'],
      ['doc-v2', 'sluice.document.upserted.v1'],
    ]);
    const chunks = await as('reader').get('/v1/documents/kb/doc/chunks');
    expect(chunks.json.items).toEqual([
      expect.objectContaining({ chunkIndex: 0, text: 'Version 2 of the text.' }),
    ]);
    expect((await as('reader').get('/v1/documents/kb/none/events')).json.items).toEqual([]);
  });

  it('collections count documents per status; models show coverage and switch for admins', async () => {
    const c = await as('reader').get('/v1/collections');
    expect(c.json.items).toEqual([
      expect.objectContaining({ name: 'kb', statuses: { indexed: 1 } }),
    ]);
    const m = await as('reader').get('/v1/models');
    const model = config.models[0]!;
    expect(m.json.collections).toEqual([
      {
        collection: 'kb',
        active: null,
        previous: null,
        coverage: { [model]: { documents: 1, indexed: 1 } },
      },
    ]);
    expect((await as('reader').put('/v1/collections/kb/model', { model })).status).toBe(403);
    const unknown = await as('admin').put('/v1/collections/kb/model', { model: 'nope' });
    expect([unknown.status, unknown.json.error.code]).toEqual([400, 'MODEL_UNKNOWN']);
    expect((await as('admin').put('/v1/collections/kb/model', { model })).json).toMatchObject({
      active: model,
      coverage: { documents: 1, indexed: 1 },
    });
  });

  it('the event log reads a structured-mode event and lists an unreadable one', async () => {
    const ref = { tenant: 'acme', collection: 'kb', documentId: 'raw' };
    const subject = new Subjects(config.namespace).event(ref);
    const h = headers();
    h.set('content-type', 'application/cloudevents+json');
    const js = jetstream(t.nc);
    await js.publish(
      subject,
      JSON.stringify({
        specversion: '1.0',
        id: 'structured-1',
        source: 'urn:raw',
        type: 'sluice.document.upserted.v1',
        data: { ...ref, text: 'Published by a foreign client in structured mode.' },
      }),
      { headers: h },
    );
    await js.publish(subject, new Uint8Array([0xff, 0xfe]));
    const events = await as('reader').get('/v1/documents/kb/raw/events');
    expect(events.json.items.map((e: { id: string; type: string }) => [e.id, e.type])).toEqual([
      ['structured-1', 'sluice.document.upserted.v1'],
      ['', 'unreadable'],
    ]);
  });

  it('dead letters filter by code and tenant', async () => {
    // The unreadable event above was dead-lettered by the chunker.
    const list = (q: string) => as('operator').get(`/v1/dead-letters?${q}`);
    await until(
      async () => (await list('code=EVENT_INVALID&tenant=acme')).json.items.length === 1,
      30_000,
      'the unreadable event dead-lettered',
    );
    const [letter] = (await list('code=EVENT_INVALID&tenant=acme')).json.items;
    expect(letter).toMatchObject({ consumer: 'chunker', code: 'EVENT_INVALID', tenant: 'acme' });
    expect((await list('code=TEXT_REF_INVALID')).json.items).toEqual([]);
    expect((await list('tenant=globex')).json.items).toEqual([]);
    expect((await list('code=lower')).status).toBe(400);
  });

  it('a replay with nothing to roll back says so', async () => {
    const r = await as('operator').post('/v1/replays/documents/rollback', {});
    expect(r.status).toBe(409);
    expect(r.json.error.code).toBe('ROLLBACK_UNAVAILABLE');
  });

  it('stopping the API ends open pipeline streams instead of waiting for them', async () => {
    const res = await fetch(`${address}/v1/pipeline/stream`, {
      headers: { authorization: `Bearer ${keys.operator}` },
    });
    const reader = res.body!.getReader();
    await reader.read();
    await t.app.stop();
    // The stream ends: before, the stop waited for the client to leave, for ever.
    for (;;) if ((await reader.read()).done) break;
  });
});
