import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/api/app.js';
import { KeyVerifier, createKey } from '../src/api/keys.js';
import { startApp, type RunningApp } from '../src/app/start.js';
import type { Config } from '../src/config/index.js';
import { errorCodes } from '../src/errors/index.js';
import { createLogger } from '../src/logger.js';
import { Producer } from '../src/producers/index.js';
import { deleteNamespace } from '../src/topology/index.js';
import { createTestDatabase, type TestDatabase } from './harness/database.js';
import { client } from './harness/http.js';
import { STATIC_MODEL } from './harness/models.js';
import { pipelineConfig, pipelineModel, until } from './harness/pipeline.js';

const corpus: Record<string, { text: string; topic: string }> = {
  bread: {
    text: 'How to bake sourdough bread: mix flour, water and salt, knead the dough, let it rise overnight and bake the loaf in a hot oven.',
    topic: 'cooking',
  },
  stars: {
    text: 'Astronomers observe distant galaxies and stars with large telescopes; the light of a star takes years to reach the earth.',
    topic: 'science',
  },
  football: {
    text: 'The football team scored two goals in the second half and won the match in front of a full stadium.',
    topic: 'sport',
  },
  code: {
    text: 'Programmers write software, compile the program and fix the bugs that the tests find.',
    topic: 'tech',
  },
  medicine: {
    text: 'The doctor prescribed medicine to the patient in the hospital to treat the infection.',
    topic: 'health',
  },
  music: {
    text: 'The orchestra played a symphony; violins and pianos filled the concert hall with music.',
    topic: 'arts',
  },
};

describe('HTTP API over the read models and the index', () => {
  let db: TestDatabase;
  let nc: NatsConnection;
  let config: Config;
  let app: RunningApp;
  let address: string;
  let keyA: string;
  let keyB: string;
  let admin: string;
  const A = () => client(address, keyA);
  const B = () => client(address, keyB);
  const event = (
    tenant: string,
    collection: string,
    documentId: string,
    text: string,
    metadata: Record<string, string> = {},
  ) => ({
    specversion: '1.0',
    id: `${tenant}-${collection}-${documentId}-${Math.random()}`,
    source: 'urn:test',
    type: 'sluice.document.upserted.v1',
    data: { tenant, collection, documentId, title: documentId, text, metadata },
  });

  beforeAll(async () => {
    db = await createTestDatabase();
    config = pipelineConfig(db.url, {
      roles: ['api', 'chunker', 'embedder', 'indexer', 'projector'],
      httpPort: 0,
      auth: 'keys',
    });
    app = await startApp(config, createLogger({ level: 'silent' }), { handleSignals: false });
    address = (app.roles.find((r) => r.name === 'api') as unknown as { address: string }).address;
    keyA = (await createKey(db.sql, { tenant: 'acme' })).key;
    keyB = (await createKey(db.sql, { tenant: 'beta' })).key;
    admin = (await createKey(db.sql, { tenant: 'acme', admin: true })).key;
    nc = await connect({ servers: config.natsUrl });

    const ndjson = Object.entries(corpus)
      .map(([id, d]) => JSON.stringify(event('acme', 'kb', id, d.text, { topic: d.topic })))
      .join('\n');
    expect(
      (await A().post('/v1/events', ndjson, { 'content-type': 'application/x-ndjson' })).status,
    ).toBe(202);
    expect(
      (
        await A().post(
          '/v1/events',
          event('acme', 'other', 'elsewhere', 'A note about bread in another collection.'),
        )
      ).status,
    ).toBe(202);
    expect(
      (
        await B().post(
          '/v1/events',
          event(
            'beta',
            'kb',
            'beta-bread',
            'Secret beta recipe for baking bread in the beta kitchen.',
          ),
        )
      ).status,
    ).toBe(202);
    await until(
      async () => {
        const [a, b] = [
          await A().get('/v1/documents?limit=100'),
          await B().get('/v1/documents?limit=100'),
        ];
        return (
          a.json.items?.length === 7 &&
          b.json.items?.length === 1 &&
          [...a.json.items, ...b.json.items].every(
            (d: { status: string }) => d.status === 'indexed',
          )
        );
      },
      120_000,
      'all documents indexed',
    );
  }, 180_000);
  afterAll(async () => {
    await app?.stop();
    await deleteNamespace(nc, config.namespace);
    await nc?.close();
    await db?.drop();
  });

  const ids = (r: { json: { results: { documentId: string }[] } }) =>
    r.json.results.map((h) => h.documentId);

  it.runIf(pipelineModel === STATIC_MODEL)(
    'finds the right document by meaning (vector search)',
    async () => {
      const cases: [string, string][] = [
        ['baking a loaf of bread in the oven', 'bread'],
        ['telescope observations of galaxies', 'stars'],
        ['the team won the game', 'football'],
        ['a violin concert', 'music'],
      ];
      for (const [query, want] of cases) {
        const r = await A().post('/v1/search', { query, mode: 'vector', collection: 'kb', k: 3 });
        expect(r.status, query).toBe(200);
        expect(ids(r)[0], query).toBe(want);
      }
    },
  );

  it('finds documents by words (keyword) and by both (hybrid)', async () => {
    const kw = await A().post('/v1/search', { query: 'symphony', mode: 'keyword', k: 5 });
    expect(ids(kw)).toEqual(['music']);
    expect(kw.json.results[0]).toMatchObject({
      title: 'music',
      collection: 'kb',
      metadata: { topic: 'arts' },
      chunkIndex: 0,
    });
    const hy = await A().post('/v1/search', {
      query: 'football goals stadium',
      mode: 'hybrid',
      collection: 'kb',
      k: 3,
    });
    expect(ids(hy)[0]).toBe('football');
    expect(hy.json.model).toMatch(new RegExp(`^${pipelineModel}@`));
  });

  it('answers a stop-word-only query: keyword 400 QUERY_NO_TERMS, hybrid by vector alone', async () => {
    const kw = await A().post('/v1/search', { query: 'the of and, to!', mode: 'keyword' });
    expect(kw.status).toBe(400);
    expect(kw.json.error).toMatchObject({ code: 'QUERY_NO_TERMS', details: { pointer: '/query' } });
    const hy = await A().post('/v1/search', {
      query: 'the of and',
      mode: 'hybrid',
      collection: 'kb',
    });
    expect(hy.status).toBe(200);
    expect(hy.json.fusion).toEqual({ vectorWeight: 1, source: 'no-keyword-terms' });
    expect(hy.json.results.length).toBeGreaterThan(0);
  });

  it('refuses a NUL in a query with a pointer; hybrid with no keyword hit keeps vector order', async () => {
    const nul = await A().post('/v1/search', { query: 'bread \u0000 oven', mode: 'keyword' });
    expect(nul.status).toBe(400);
    expect(nul.json.error).toMatchObject({
      code: 'REQUEST_INVALID',
      details: { pointer: '/query' },
    });
    const query = 'zyxwvut qwertyuiop'; // words, but none in any chunk
    const vector = await A().post('/v1/search', { query, mode: 'vector', collection: 'kb' });
    const hybrid = await A().post('/v1/search', {
      query,
      mode: 'hybrid',
      collection: 'kb',
      fusion: { vectorWeight: 0 },
    });
    expect(ids(hybrid)).toEqual(ids(vector));
  });

  it('matches any word of a natural-language query (OR), best match first', async () => {
    const kw = await A().post('/v1/search', {
      query: 'which telescopes do astronomers use to watch the galaxies?',
      mode: 'keyword',
      collection: 'kb',
    });
    expect(ids(kw)[0]).toBe('stars');
  });

  it('stores a fusion weight per collection, uses it and says so; admin keys only', async () => {
    const path = '/v1/collections/kb/fusion';
    expect((await A().get(path)).json).toMatchObject({ vectorWeight: 0.5, source: 'default' });
    const denied = await A().put(path, { vectorWeight: 0.2 });
    expect(denied.status).toBe(403);
    const bad = await client(address, admin).put(path, { vectorWeight: 2 });
    expect(bad.status).toBe(400);
    const set = await client(address, admin).put(path, { vectorWeight: 0.2 });
    expect(set.json).toMatchObject({ vectorWeight: 0.2, source: 'configured', calibration: null });
    await until(async () => {
      const r = await A().post('/v1/search', { query: 'bread', mode: 'hybrid', collection: 'kb' });
      return r.json.fusion?.source === 'configured';
    });
    const hy = await A().post('/v1/search', { query: 'bread', mode: 'hybrid', collection: 'kb' });
    expect(hy.json.fusion.vectorWeight).toBeCloseTo(0.2, 6);
    const asked = await A().post('/v1/search', {
      query: 'bread',
      mode: 'hybrid',
      collection: 'kb',
      fusion: { vectorWeight: 0 },
    });
    const keyword = await A().post('/v1/search', {
      query: 'bread',
      mode: 'keyword',
      collection: 'kb',
    });
    expect(asked.json.fusion).toEqual({ vectorWeight: 0, source: 'request' });
    // Weight 0 is keyword search exactly.
    expect(ids(asked).slice(0, ids(keyword).length)).toEqual(ids(keyword));
    // Tenant beta has its own settings for its own collections.
    expect((await B().get(path)).json.source).toBe('default');
    const removed = await client(address, admin).delete(path);
    expect(removed.json.source).toBe('default');
  });

  it('filters by metadata and by document ids', async () => {
    const byTopic = await A().post('/v1/search', {
      query: 'anything at all',
      mode: 'vector',
      k: 10,
      filter: { metadata: { topic: 'cooking' } },
    });
    expect(ids(byTopic)).toEqual(['bread']);
    const byIds = await A().post('/v1/search', {
      query: 'anything at all',
      mode: 'hybrid',
      k: 10,
      filter: { documentIds: ['code', 'music'] },
    });
    expect(ids(byIds).sort()).toEqual(['code', 'music']);
  });

  it("never shows one tenant another tenant's documents, whatever the request says", async () => {
    const a = await A().post('/v1/search', {
      query: 'bread beta kitchen recipe',
      mode: 'hybrid',
      k: 20,
    });
    expect(ids(a)).not.toContain('beta-bread');
    const b = await B().post('/v1/search', { query: 'bread', mode: 'hybrid', k: 20 });
    expect(ids(b)).toEqual(['beta-bread']);
    expect((await A().get('/v1/documents/kb/beta-bread')).status).toBe(404);
    expect(
      (await A().get('/v1/collections')).json.items.map((c: { name: string }) => c.name),
    ).toEqual(['kb', 'other']);
    expect((await B().get('/v1/collections')).json.items).toEqual([
      expect.objectContaining({ name: 'kb', documentCount: 1 }),
    ]);
    // A tenant field in the body is refused, and an event for another tenant is forbidden.
    expect((await B().post('/v1/search', { query: 'bread', tenant: 'acme' })).json.error.code).toBe(
      'REQUEST_INVALID',
    );
    const forged = await A().post('/v1/events', event('beta', 'kb', 'forged', 'I am not beta.'));
    expect(forged.status).toBe(403);
    expect(forged.json.error.code).toBe('TENANT_FORBIDDEN');
    // An event with no tenant, or not a string, is invalid rather than forbidden.
    for (const tenant of [undefined, null, 7, ['acme'], {}]) {
      const e = event('acme', 'kb', 'no-tenant', 'Whose am I?');
      const invalid = await A().post('/v1/events', {
        ...e,
        data: { ...e.data, tenant },
      });
      expect(invalid.status, JSON.stringify(tenant)).toBe(400);
      expect(invalid.json.error).toMatchObject({
        code: 'EVENT_INVALID',
        details: { pointer: '/data/tenant' },
      });
    }
  });

  it('shows a document with its status per stage, and collection statistics', async () => {
    const d = await A().get('/v1/documents/kb/bread');
    expect(d.status).toBe(200);
    expect(d.json).toMatchObject({
      collection: 'kb',
      id: 'bread',
      status: 'indexed',
      chunkCount: 1,
      metadata: { topic: 'cooking' },
    });
    for (const stage of ['received', 'chunked', 'embedded', 'indexed'] as const)
      expect(d.json.stages[stage]).not.toBeNull();
    expect(d.json.modelId).toMatch(new RegExp(`^${pipelineModel}@`));
    const c = (await A().get('/v1/collections')).json.items.find(
      (x: { name: string }) => x.name === 'kb',
    );
    expect(c).toMatchObject({ documentCount: 6, chunkCount: 6 });
    expect(c.bytes).toBe(Object.values(corpus).reduce((n, x) => n + Buffer.byteLength(x.text), 0));
  });

  it('pages documents with a cursor that stays stable while documents are added', async () => {
    const producer = new Producer({ nc, namespace: config.namespace });
    const before = (await A().get('/v1/documents?collection=kb&limit=100')).json.items.map(
      (d: { id: string }) => d.id,
    );
    const seen: string[] = [];
    let cursor: string | null = null;
    let n = 0;
    do {
      const page = await A().get(
        `/v1/documents?collection=kb&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.status).toBe(200);
      seen.push(...page.json.items.map((d: { id: string }) => d.id));
      cursor = page.json.next;
      // Documents arrive between pages, some sorting before the cursor, some after.
      await producer.publish(
        producer.event('sluice.document.upserted.v1', {
          tenant: 'acme',
          collection: 'kb',
          documentId: `a-new-${n}`,
          text: 'new',
        }),
      );
      await producer.publish(
        producer.event('sluice.document.upserted.v1', {
          tenant: 'acme',
          collection: 'kb',
          documentId: `zz-new-${n++}`,
          text: 'new',
        }),
      );
      await new Promise((r) => setTimeout(r, 300));
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of before) expect(seen).toContain(id);
  });

  const expectClientError = (r: { status: number; json: any }, status: number, code?: string) => {
    expect(r.status).toBe(status);
    expect(Object.keys(errorCodes)).toContain(r.json.error.code);
    if (code) expect(r.json.error.code).toBe(code);
    expect(typeof r.json.error.message).toBe('string');
  };

  it.each([
    ['no query', {}, 400, 'REQUEST_INVALID'],
    ['an empty query', { query: '' }, 400, 'REQUEST_INVALID'],
    ['a huge k', { query: 'x', k: 100000 }, 400, 'REQUEST_INVALID'],
    ['k as a string', { query: 'x', k: '10' }, 400, 'REQUEST_INVALID'],
    ['an unknown mode', { query: 'x', mode: 'magic' }, 400, 'REQUEST_INVALID'],
    ['an unknown field', { query: 'x', extra: true }, 400, 'REQUEST_INVALID'],
    [
      'a nested metadata filter',
      { query: 'x', filter: { metadata: { a: { b: 1 } } } },
      400,
      'REQUEST_INVALID',
    ],
    ['an unknown collection', { query: 'x', collection: 'nope' }, 404, 'NOT_FOUND'],
    ['an unknown model', { query: 'x', model: 'gpt-99' }, 400, 'MODEL_UNKNOWN'],
    ['bad JSON', '{"query": ', 400, undefined],
  ])('answers a search with %s with a 4xx and a code', async (_what, body, status, code) => {
    expectClientError(await A().post('/v1/search', body), status, code);
  });

  it.each([
    ['/v1/documents?limit=0', 400],
    ['/v1/documents?limit=abc', 400],
    ['/v1/documents?cursor=not-a-cursor', 400],
    ['/v1/documents?status=sleeping', 400],
    ['/v1/documents?collection=Bad.Name', 400],
    ['/v1/documents/kb/missing', 404],
    ['/v1/documents/BAD!/x', 400],
    ['/v1/dead-letters', 403],
    ['/v1/nowhere', 404],
  ])('answers GET %s with %i and a code', async (path, status) => {
    expectClientError(await A().get(path), status);
  });

  it('needs a valid key, and an admin key for dead letters', async () => {
    expectClientError(
      await client(address).post('/v1/search', { query: 'x' }),
      401,
      'UNAUTHORIZED',
    );
    expectClientError(await client(address, 'sk_nope').get('/v1/collections'), 401, 'UNAUTHORIZED');
    expectClientError(
      await client(address, `sk_abcdefghijkl_${'x'.repeat(43)}`).get('/v1/collections'),
      401,
      'UNAUTHORIZED',
    );
    const adm = client(address, admin);
    expect((await adm.get('/v1/dead-letters')).status).toBe(200);
    expectClientError(await adm.get('/v1/dead-letters?limit=-1'), 400);
    expectClientError(await adm.get('/v1/dead-letters/abc'), 400);
    expectClientError(await adm.get('/v1/dead-letters/999999'), 404, 'NOT_FOUND');
    expectClientError(await adm.post('/v1/dead-letters/redrive', {}), 400, 'REQUEST_INVALID');
  });

  it('serves health, readiness, metrics and the OpenAPI document without a key', async () => {
    const open = client(address);
    expect((await open.get('/healthz')).json).toEqual({ status: 'ok' });
    const ready = await open.get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.json).toMatchObject({
      status: 'ok',
      checks: { nats: { ok: true }, postgres: { ok: true }, models: { ok: true } },
    });
    const metrics = await open.get('/metrics');
    for (const name of [
      'sluice_messages_total',
      'sluice_consumer_pending_messages{durable="chunker"',
      'sluice_consumer_ack_pending_messages',
      'sluice_http_request_duration_seconds_bucket',
      'sluice_embedding_cache_total',
      'sluice_embedding_duration_seconds',
      'sluice_chunks_indexed_total',
      'sluice_tokens_embedded_total{model=',
      'sluice_stage_latency_seconds_bucket{le=',
    ]) {
      expect(metrics.json).toContain(name);
    }
    // Every series names the roles of the process that wrote it.
    expect(metrics.json).toMatch(/sluice_messages_total\{[^}]*role="api,chunker,embedder/);
    for (const stage of ['chunked', 'embedded', 'indexed'])
      expect(metrics.json).toMatch(
        new RegExp(`sluice_stage_latency_seconds_count\\{[^}]*stage="${stage}"[^}]*\\} [1-9]`),
      );
    const docs = await open.get('/docs/json');
    expect(Object.keys(docs.json.paths)).toEqual(
      expect.arrayContaining([
        '/v1/search',
        '/v1/events',
        '/v1/documents',
        '/v1/documents/{collection}/{id}',
        '/v1/collections',
      ]),
    );
  });

  it('takes at most 1 MiB on routes other than ingest, and says when a query ran too long', async () => {
    const big = await A().post('/v1/search', { query: 'x'.repeat(1024 * 1024 + 10) });
    expect(big.status).toBe(413);
    expect(big.json.error.code).toBe('BODY_TOO_LARGE');

    const app = await buildApp({
      logger: createLogger({ level: 'silent' }),
      bodyLimit: 1024,
      auth: { mode: 'off', tenant: 'acme' },
      ingest: { producer: new Producer({ nc, namespace: config.namespace }) },
    });
    // What postgres.js throws when statement_timeout cancels a query.
    app.get('/slow', () => {
      throw Object.assign(new Error('canceling statement due to statement timeout'), {
        code: '57014',
      });
    });
    try {
      const res = await app.inject({ method: 'GET', url: '/slow' });
      expect(res.statusCode).toBe(503);
      expect(res.json().error.code).toBe('QUERY_TIMEOUT');
    } finally {
      await app.close();
    }
  });

  it('answers an address that keeps guessing a key with 429, without looking it up, and still takes a valid key', async () => {
    let lookups = 0;
    const verifier = new KeyVerifier(db.sql);
    const verify = verifier.verify.bind(verifier);
    verifier.verify = (k: string) => {
      lookups++;
      return verify(k);
    };
    const app = await buildApp({
      logger: createLogger({ level: 'silent' }),
      bodyLimit: 1024,
      auth: { mode: 'keys', verifier, failuresPerMinute: 3 },
      ingest: { producer: new Producer({ nc, namespace: config.namespace }) },
      queries: { sql: db.sql, models: new Map(), defaultModel: 'none' },
    });
    try {
      const guess = (i: number) =>
        app.inject({
          method: 'GET',
          url: '/v1/collections',
          headers: { authorization: `Bearer sk_guess${i}_${'x'.repeat(32)}` },
        });
      const answers = [];
      for (let i = 0; i < 5; i++) answers.push(await guess(i));
      expect(answers.map((a) => a.statusCode)).toEqual([401, 401, 401, 429, 429]);
      expect(answers[3]!.json().error.code).toBe('RATE_LIMITED');
      expect(Number(answers[3]!.headers['retry-after'])).toBeGreaterThan(0);
      expect(lookups).toBe(3);
      // Keys are limited one by one: a valid key from the same address still works.
      const valid = (await createKey(db.sql, { tenant: 'acme' })).key;
      const ok = await app.inject({
        method: 'GET',
        url: '/v1/collections',
        headers: { authorization: `Bearer ${valid}` },
      });
      expect(ok.statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('limits requests per key with 429 and Retry-After', async () => {
    const limited = await buildApp({
      logger: createLogger({ level: 'silent' }),
      bodyLimit: 1024,
      rateLimit: 3,
      auth: { mode: 'off', tenant: 'acme' },
      ingest: { producer: new Producer({ nc, namespace: config.namespace }) },
      queries: { sql: db.sql, models: new Map(), defaultModel: 'none' },
    });
    try {
      const answers = [];
      for (let i = 0; i < 4; i++)
        answers.push(await limited.inject({ method: 'GET', url: '/v1/collections' }));
      expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200, 429]);
      // Refused before its body is read: broken JSON is not even parsed.
      const broken = await limited.inject({
        method: 'POST',
        url: '/v1/search',
        headers: { 'content-type': 'application/json' },
        payload: '{"query": ',
      });
      expect(broken.statusCode).toBe(429);
      const refused = answers[3]!;
      expect(refused.json().error.code).toBe('RATE_LIMITED');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    } finally {
      await limited.close();
    }
  });
});
