import { randomUUID } from 'node:crypto';
import { jetstream } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/harness/app.js';
import { client } from '../../test/harness/http.js';
import { pipelineModel, until } from '../../test/harness/pipeline.js';
import { enqueue } from '../output/announce.js';
import type { Sql } from '../db/index.js';
import type { DeclaredRoute, Scope } from './auth.js';
import { createKey } from './keys.js';

/**
 * The scope matrix, generated from the API's own route table: every route is called
 * with no key, a plain and an admin key of another tenant, on the owner's resources
 * (the owner's document, subscription with pending deliveries, dead letter, redrive
 * job), and must refuse or answer with nothing of the owner's, and change nothing of
 * the owner's (every table with a tenant column, hashed). Then the owner's plain key
 * calls each route. A route that declares no scope, or that this file has no request
 * for, fails here: declare `config: { scope, owns }` (src/api/auth.ts) and add it below.
 */
const OWNER = 'tenant-a7';
const OTHER = 'other';
const DOC = 'doc-9q3z';
const MARK = 'zebraowner';

interface Ids {
  sub: string;
  letter: number;
  job: string;
}
type Request = (ids: Ids) => { path: string; body?: unknown };

const event = (tenant: string, documentId: string, text: string) => ({
  specversion: '1.0',
  id: randomUUID(),
  source: 'urn:test',
  type: 'sluice.document.upserted.v1',
  data: { tenant, collection: 'c', documentId, text },
});

/** One request per route, aimed at the owner's resources. */
const requests: Record<string, Request> = {
  'GET /healthz': () => ({ path: '/healthz' }),
  'GET /readyz': () => ({ path: '/readyz' }),
  'GET /metrics': () => ({ path: '/metrics' }),
  'GET /ui': () => ({ path: '/ui' }),
  'GET /ui/': () => ({ path: '/ui/' }),
  'GET /ui/*': () => ({ path: '/ui/index.html' }),
  'POST /v1/events': () => ({ path: '/v1/events', body: event(OWNER, DOC, 'overwritten') }),
  // The tenant comes from the key; naming the owner's is how another key aims at it.
  'POST /v1/documents/:collection/:id': () => ({
    path: `/v1/documents/c/${DOC}?tenant=${OWNER}`,
    body: 'An uploaded file that overwrites the document.',
  }),
  'POST /v1/search': () => ({ path: '/v1/search', body: { query: MARK, collection: 'c', k: 5 } }),
  'GET /v1/documents/:collection/:id/chunks': () => ({ path: `/v1/documents/c/${DOC}/chunks` }),
  'GET /v1/documents/:collection/:id/events': () => ({ path: `/v1/documents/c/${DOC}/events` }),
  'GET /v1/documents/:collection/:id': () => ({ path: `/v1/documents/c/${DOC}` }),
  'GET /v1/documents': () => ({ path: '/v1/documents?collection=c' }),
  'GET /v1/collections': () => ({ path: '/v1/collections' }),
  'GET /v1/models': () => ({ path: '/v1/models' }),
  'PUT /v1/collections/:collection/model': () => ({
    path: '/v1/collections/c/model',
    body: { model: pipelineModel, force: true },
  }),
  'GET /v1/collections/:collection/fusion': () => ({ path: '/v1/collections/c/fusion' }),
  'PUT /v1/collections/:collection/fusion': () => ({
    path: '/v1/collections/c/fusion',
    body: { vectorWeight: 0.9 },
  }),
  'DELETE /v1/collections/:collection/fusion': () => ({ path: '/v1/collections/c/fusion' }),
  'POST /v1/collections/:collection/fusion/calibrate': () => ({
    path: '/v1/collections/c/fusion/calibrate',
    body: {},
  }),
  'GET /v1/me': () => ({ path: '/v1/me' }),
  'GET /v1/pipeline': () => ({ path: '/v1/pipeline' }),
  'GET /v1/pipeline/stream': () => ({ path: '/v1/pipeline/stream' }),
  'GET /v1/metrics/history': () => ({ path: '/v1/metrics/history' }),
  'GET /v1/dead-letters': () => ({ path: '/v1/dead-letters' }),
  'GET /v1/dead-letters/:id': (i) => ({ path: `/v1/dead-letters/${i.letter}` }),
  'POST /v1/dead-letters/redrive': (i) => ({
    path: '/v1/dead-letters/redrive',
    body: { ids: [i.letter] },
  }),
  'GET /v1/dead-letters/redrive-jobs': () => ({ path: '/v1/dead-letters/redrive-jobs' }),
  'GET /v1/dead-letters/redrive-jobs/:id': (i) => ({
    path: `/v1/dead-letters/redrive-jobs/${i.job}`,
  }),
  'POST /v1/dead-letters/redrive-jobs/:id/cancel': (i) => ({
    path: `/v1/dead-letters/redrive-jobs/${i.job}/cancel`,
    body: {},
  }),
  'POST /v1/webhooks': () => ({ path: '/v1/webhooks', body: { url: 'http://127.0.0.1:9/other' } }),
  'GET /v1/webhooks': () => ({ path: '/v1/webhooks' }),
  'DELETE /v1/webhooks/:id': (i) => ({ path: `/v1/webhooks/${i.sub}` }),
  'GET /v1/webhooks/:id/deliveries': (i) => ({ path: `/v1/webhooks/${i.sub}/deliveries` }),
  'POST /v1/webhooks/:id/deliveries/redrive': (i) => ({
    path: `/v1/webhooks/${i.sub}/deliveries/redrive`,
    body: {},
  }),
  'POST /v1/webhooks/:id/rotate-secret': (i) => ({
    path: `/v1/webhooks/${i.sub}/rotate-secret`,
    body: {},
  }),
  'POST /v1/webhooks/callback-secret': () => ({ path: '/v1/webhooks/callback-secret', body: {} }),
  'GET /v1/replays': () => ({ path: '/v1/replays' }),
  'GET /v1/replays/:projection': () => ({ path: '/v1/replays/documents' }),
  'POST /v1/replays/:projection': () => ({ path: '/v1/replays/documents', body: {} }),
  'POST /v1/replays/:projection/cancel': () => ({ path: '/v1/replays/documents/cancel', body: {} }),
  'POST /v1/replays/:projection/rollback': () => ({
    path: '/v1/replays/documents/rollback',
    body: {},
  }),
};

/** Every row of the owner's in every table with a tenant column (keys aside: they record use). */
async function ownerState(sql: Sql): Promise<Record<string, string>> {
  const tables = await sql<{ table_name: string }[]>`
    SELECT table_name FROM information_schema.columns
    WHERE table_schema = 'public' AND column_name = 'tenant' AND table_name <> 'api_keys'
    ORDER BY table_name`;
  const out: Record<string, string> = {};
  for (const { table_name } of tables) {
    const [r] = await sql<{ n: number; h: string }[]>`
      SELECT count(*)::int AS n, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS h
      FROM ${sql(table_name)} t WHERE tenant = ${OWNER}`;
    out[table_name] = `${r!.n}:${r!.h}`;
  }
  return out;
}

describe('route scopes: every route, every caller, on the owner’s resources', () => {
  let t: TestApp;
  let routes: DeclaredRoute[];
  const keys = { ownerPlain: '', ownerAdmin: '', otherPlain: '', otherAdmin: '' };
  const ids: Ids = { sub: '', letter: 0, job: randomUUID() };

  beforeAll(async () => {
    t = await startTestApp({
      roles: ['api', 'chunker', 'embedder', 'indexer', 'projector'],
      auth: 'keys',
      webhookAllow: ['127.0.0.0/8'],
    });
    routes = (t.app.roles.find((r) => r.name === 'api') as unknown as { routes: DeclaredRoute[] })
      .routes;
    keys.ownerPlain = (await createKey(t.db.sql, { tenant: OWNER })).key;
    keys.ownerAdmin = (await createKey(t.db.sql, { tenant: OWNER, admin: true })).key;
    keys.otherPlain = (await createKey(t.db.sql, { tenant: OTHER })).key;
    keys.otherAdmin = (await createKey(t.db.sql, { tenant: OTHER, admin: true })).key;
    const owner = t.api(keys.ownerAdmin);

    // The owner's document, indexed; a dead letter; a subscription with 10 pending
    // deliveries; a fusion setting; a callback secret; a finished redrive job.
    expect(
      (await owner.post('/v1/events', event(OWNER, DOC, `The ${MARK} grazes at noon.`))).status,
    ).toBe(202);
    const h = headers();
    h.set('content-type', 'application/cloudevents+json');
    await jetstream(t.nc).publish(`${t.config.namespace}.events.${OWNER}.c.broken`, '{"id":', {
      headers: h,
    });
    const sub = await owner.post('/v1/webhooks', { url: 'http://127.0.0.1:9/owner' });
    expect(sub.status).toBe(201);
    ids.sub = sub.json.id as string;
    await t.db.sql.begin((tx) =>
      enqueue(
        tx as unknown as Sql,
        Array.from({ length: 10 }, (_, i) => ({
          type: 'document.indexed' as const,
          tenant: OWNER,
          collection: 'c',
          key: `k${i}`,
          data: { documentId: `d${i}` },
        })),
      ),
    );
    expect((await owner.put('/v1/collections/c/fusion', { vectorWeight: 0.3 })).status).toBe(200);
    expect((await owner.post('/v1/webhooks/callback-secret', {})).status).toBe(200);
    await t.db.sql`
      INSERT INTO redrive_jobs (id, tenant, selection, status, finished_at)
      VALUES (${ids.job}, ${OWNER}, '{"all": true}'::jsonb, 'done', now())`;
    await until(
      async () => (await owner.get(`/v1/documents/c/${DOC}`)).json.status === 'indexed',
      60_000,
      "the owner's document indexed",
    );
    await until(
      async () => (await owner.get('/v1/dead-letters')).json.items?.length === 1,
      30_000,
      "the owner's dead letter",
    );
    ids.letter = (await owner.get('/v1/dead-letters')).json.items[0].id as number;
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
  });

  const call = (key: string | undefined, method: string, r: { path: string; body?: unknown }) => {
    const c = client(t.address, key);
    if (method === 'GET') return c.get(r.path);
    if (method === 'DELETE') return c.delete(r.path);
    return method === 'PUT' ? c.put(r.path, r.body) : c.post(r.path, r.body);
  };

  it('declares a scope and has a request here for every route', () => {
    const undeclared = routes.filter((r) => r.scope === undefined || r.owns === undefined);
    expect(undeclared.map((r) => `${r.method} ${r.url}`)).toEqual([]);
    const missing = routes.filter((r) => !requests[`${r.method} ${r.url}`]);
    expect(missing.map((r) => `${r.method} ${r.url}`)).toEqual([]);
    expect(routes.length).toBeGreaterThanOrEqual(35);
  });

  it("refuses every other caller, or answers nothing of the owner's, and changes nothing", async () => {
    const table: string[] = [];
    for (const route of routes) {
      const r = requests[`${route.method} ${route.url}`]!(ids);
      // What the owner has that the request does not name itself (a 404 may echo it).
      const markers = [OWNER, DOC, MARK, ids.sub].filter((m) => !JSON.stringify(r).includes(m));
      const before = await ownerState(t.db.sql);
      const seen: string[] = [];
      for (const [who, key] of [
        ['no key', undefined],
        ['other plain', keys.otherPlain],
        ['other admin', keys.otherAdmin],
      ] as const) {
        const res = await call(key, route.method, r);
        const label = `${route.method} ${route.url} with ${who}: ${res.status}`;
        seen.push(String(res.status));
        const needs: Scope = route.scope ?? 'plain';
        const allowed =
          needs === 'none' ||
          (key !== undefined &&
            (needs === 'plain' || (needs === 'admin' && key === keys.otherAdmin)));
        if (!allowed) expect(res.status, label).toBe(key === undefined ? 401 : 403);
        // Public routes may say 503 (not ready, dashboard not built); they need no key.
        else if (needs === 'none') expect([401, 403], label).not.toContain(res.status);
        else expect([200, 201, 202, 204, 400, 403, 404, 409], label).toContain(res.status);
        const text = typeof res.json === 'string' ? res.json : JSON.stringify(res.json);
        for (const m of markers) expect(text, `${label} leaks ${m}`).not.toContain(m);
      }
      expect(await ownerState(t.db.sql), `${route.method} ${route.url}`).toEqual(before);
      table.push(
        `${route.method} ${route.url}  scope=${route.scope} owns=${route.owns}  ${seen.join('/')}`,
      );
    }
    // The owner's subscription keeps its 10 pending deliveries, whoever asked to delete it.
    const [pending] = await t.db.sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM webhook_deliveries
      WHERE subscription_id = ${ids.sub} AND status = 'pending'`;
    expect(pending!.n).toBe(10);
    console.log(`\nRoute scopes (no key / other plain / other admin):\n${table.join('\n')}\n`);
  }, 120_000);

  it("lets the owner's plain key call every plain route, and refuses it the admin and operator ones", async () => {
    for (const route of routes) {
      if (route.url === '/v1/pipeline/stream') continue; // a stream: refused below without waiting
      const r = requests[`${route.method} ${route.url}`]!(ids);
      const body =
        route.url === '/v1/events'
          ? { ...(r.body as object), ...event(OWNER, 'new', 'x') }
          : r.body;
      const res = await call(keys.ownerPlain, route.method, { ...r, body });
      const label = `${route.method} ${route.url}: ${res.status}`;
      if (route.scope === 'admin' || route.scope === 'operator')
        expect(res.status, label).toBe(403);
      else expect([401, 403], label).not.toContain(res.status);
      if (route.scope === 'plain') expect(res.status, label).toBeLessThan(500);
    }
    const doc = await call(keys.ownerPlain, 'GET', { path: `/v1/documents/c/${DOC}` });
    expect(doc.json.id).toBe(DOC);
    const stream = await call(keys.ownerPlain, 'GET', { path: '/v1/pipeline/stream' });
    expect(stream.status).toBe(403);
    // replay.* events concern the installation: a tenant admin may not subscribe to them.
    const replays = await call(keys.ownerAdmin, 'POST', {
      path: '/v1/webhooks',
      body: { url: 'http://127.0.0.1:9/replays', events: ['replay.failed'] },
    });
    expect(replays.status).toBe(403);
  }, 60_000);
});
