import { jetstream } from '@nats-io/jetstream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey } from '../src/api/keys.js';
import { startApp, type RunningApp } from '../src/app/start.js';
import type { Config } from '../src/config/index.js';
import { createLogger } from '../src/logger.js';
import { deleteNamespace } from '../src/topology/index.js';
import { createTestDatabase, type TestDatabase } from './harness/database.js';
import { client } from './harness/http.js';
import { pipelineConfig, until } from './harness/pipeline.js';

/**
 * A tenant's admin key administers that tenant only; an operator key, the installation.
 * Dead letters of two tenants come from broken events a foreign client publishes on
 * each tenant's subjects (the chunker dead-letters them at once).
 */
describe('admin scope: tenant admins and operators', () => {
  let db: TestDatabase;
  let nc: NatsConnection;
  let config: Config;
  let app: RunningApp;
  let address: string;
  const keys: Record<'user' | 'acmeAdmin' | 'betaAdmin' | 'operator', string> = {
    user: '',
    acmeAdmin: '',
    betaAdmin: '',
    operator: '',
  };
  const as = (who: keyof typeof keys) => client(address, keys[who]);
  const seqs: Record<'acme' | 'beta', number[]> = { acme: [], beta: [] };

  const publishBroken = async (tenant: 'acme' | 'beta', n: number): Promise<void> => {
    const js = jetstream(nc);
    const h = headers();
    h.set('content-type', 'application/cloudevents+json');
    for (let i = 0; i < n; i++) {
      const ack = await js.publish(
        `${config.namespace}.events.${tenant}.docs.d${i}`,
        `{"specversion":"1.0","id":"${tenant}-${i}",`,
        { headers: h },
      );
      seqs[tenant].push(ack.seq);
    }
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    config = pipelineConfig(db.url, { roles: ['api', 'chunker'], httpPort: 0, auth: 'keys' });
    app = await startApp(config, createLogger({ level: 'silent' }), { handleSignals: false });
    address = (app.roles.find((r) => r.name === 'api') as unknown as { address: string }).address;
    nc = await connect({ servers: config.natsUrl });
    keys.user = (await createKey(db.sql, { tenant: 'acme' })).key;
    keys.acmeAdmin = (await createKey(db.sql, { tenant: 'acme', admin: true })).key;
    keys.betaAdmin = (await createKey(db.sql, { tenant: 'beta', admin: true })).key;
    keys.operator = (await createKey(db.sql, { tenant: 'ops', operator: true })).key;
    await publishBroken('acme', 3);
    await publishBroken('beta', 2);
    await until(
      async () => (await as('operator').get('/v1/dead-letters')).json.items?.length === 5,
      30_000,
      'five dead letters',
    );
  }, 120_000);
  afterAll(async () => {
    await app?.stop();
    await deleteNamespace(nc, config.namespace);
    await nc?.close();
    await db?.drop();
  });

  const letters = async (who: keyof typeof keys) => {
    const res = await as(who).get('/v1/dead-letters');
    expect(res.status).toBe(200);
    return res.json as {
      items: { id: number; tenant: string; seq: number }[];
      depth?: Record<string, number>;
    };
  };

  it("lists and shows a tenant admin its tenant's letters only; an operator sees all", async () => {
    const acme = await letters('acmeAdmin');
    const beta = await letters('betaAdmin');
    const all = await letters('operator');
    expect(acme.items.map((l) => l.tenant)).toEqual(['acme', 'acme', 'acme']);
    expect(beta.items.map((l) => l.tenant)).toEqual(['beta', 'beta']);
    expect(all.items).toHaveLength(5);
    // Counts per consumer span tenants: only the operator gets them.
    expect(acme.depth).toBeUndefined();
    expect(all.depth).toEqual({ chunker: 5 });

    const betaLetter = beta.items[0]!.id;
    const hidden = await as('acmeAdmin').get(`/v1/dead-letters/${betaLetter}`);
    expect(hidden.status).toBe(404);
    expect(hidden.json.error.code).toBe('NOT_FOUND');
    // Nothing of the other tenant's letter leaks into the answer.
    expect(JSON.stringify(hidden.json)).not.toContain('beta');
    expect((await as('betaAdmin').get(`/v1/dead-letters/${betaLetter}`)).status).toBe(200);
    expect((await as('operator').get(`/v1/dead-letters/${betaLetter}`)).status).toBe(200);
  });

  it("refuses a tenant admin another tenant's letters to redrive, as not found", async () => {
    const betaLetter = (await letters('betaAdmin')).items[0]!.id;
    const res = await as('acmeAdmin').post('/v1/dead-letters/redrive', { ids: [betaLetter] });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      redriven: [],
      failed: [{ id: betaLetter, reason: 'no such dead letter' }],
    });
    expect((await letters('betaAdmin')).items.map((l) => l.id)).toContain(betaLetter);
  });

  it.each([
    ['user', 'GET', '/v1/dead-letters', 403],
    ['user', 'GET', '/v1/dead-letters/redrive-jobs', 403],
    ['acmeAdmin', 'GET', '/v1/replays', 403],
    ['acmeAdmin', 'POST', '/v1/replays/documents', 403],
    ['operator', 'GET', '/v1/replays', 200],
  ] as const)('%s: %s %s answers %i', async (who, method, path, status) => {
    const res =
      method === 'GET' ? await as(who).get(path) : await as(who).post(path, { resume: true });
    expect(res.status).toBe(status);
    if (status === 403) expect(res.json.error.code).toBe('FORBIDDEN');
  });

  it("redrives all of a tenant's letters as a job, leaving the other tenant's alone", async () => {
    const before = (await letters('acmeAdmin')).items.map((l) => l.id);
    const betaBefore = (await letters('betaAdmin')).items.map((l) => l.id);
    const started = await as('acmeAdmin').post('/v1/dead-letters/redrive', { all: true });
    expect(started.status).toBe(202);
    expect(started.json).toMatchObject({ tenant: 'acme', status: 'running' });
    expect(started.headers.get('location')).toBe(
      `/v1/dead-letters/redrive-jobs/${started.json.id}`,
    );
    const job = async () =>
      (await as('acmeAdmin').get(`/v1/dead-letters/redrive-jobs/${started.json.id}`)).json;
    await until(async () => (await job()).status === 'done', 30_000, 'the job to finish');
    expect(await job()).toMatchObject({ redriven: 3, failed: 0, error: null });
    // Another tenant cannot see the job.
    expect(
      (await as('betaAdmin').get(`/v1/dead-letters/redrive-jobs/${started.json.id}`)).status,
    ).toBe(404);
    // The redriven events are still broken: the chunker dead-letters them again, as new
    // letters of the same events; beta's letters were not touched.
    await until(
      async () => {
        const now = (await letters('acmeAdmin')).items;
        return now.length === 3 && now.every((l) => !before.includes(l.id));
      },
      30_000,
      "acme's letters back after the redrive",
    );
    expect((await letters('acmeAdmin')).items.map((l) => l.seq).sort()).toEqual(
      [...seqs.acme].sort(),
    );
    expect((await letters('betaAdmin')).items.map((l) => l.id)).toEqual(betaBefore);
  });

  it('runs one job per scope; a job whose process died reads as interrupted', async () => {
    const id = '00000000-0000-4000-8000-000000000001';
    await db.sql`
      INSERT INTO redrive_jobs (id, tenant, selection, status)
      VALUES (${id}, 'beta', '{"all":true}'::jsonb, 'running')`;
    const refused = await as('betaAdmin').post('/v1/dead-letters/redrive', { all: true });
    expect(refused.status).toBe(409);
    expect(refused.json.error.code).toBe('REDRIVE_RUNNING');
    expect(refused.json.error.message).toContain(id);
    // Once its heartbeat stops, it no longer blocks the scope.
    await db.sql`UPDATE redrive_jobs SET heartbeat_at = now() - interval '1 hour' WHERE id = ${id}`;
    expect((await as('betaAdmin').get(`/v1/dead-letters/redrive-jobs/${id}`)).json.status).toBe(
      'interrupted',
    );
    const next = await as('betaAdmin').post('/v1/dead-letters/redrive', {
      consumer: 'chunker',
    });
    expect(next.status).toBe(202);
    await until(
      async () =>
        (await as('betaAdmin').get(`/v1/dead-letters/redrive-jobs/${next.json.id}`)).json.status ===
        'done',
      30_000,
      'the job to finish',
    );
    const list = (await as('operator').get('/v1/dead-letters/redrive-jobs')).json.items as {
      tenant: string;
    }[];
    expect(new Set(list.map((j) => j.tenant))).toEqual(new Set(['acme', 'beta']));
  });

  it('checks the request: ids or all, job ids as UUIDs, unknown jobs not found', async () => {
    const op = as('operator');
    expect((await op.post('/v1/dead-letters/redrive', { ids: [1], all: true })).status).toBe(400);
    expect((await op.post('/v1/dead-letters/redrive', { all: false })).status).toBe(400);
    expect((await op.get('/v1/dead-letters/redrive-jobs/not-a-uuid')).status).toBe(400);
    expect(
      (await op.get('/v1/dead-letters/redrive-jobs/00000000-0000-4000-8000-0000000000ff')).status,
    ).toBe(404);
  });
});
