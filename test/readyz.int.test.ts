import { connect } from '@nats-io/transport-node';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from '../src/app/start.js';
import type { Config } from '../src/config/index.js';
import { createLogger } from '../src/logger.js';
import { deleteNamespace } from '../src/topology/index.js';
import { client } from './harness/http.js';
import { pipelineConfig, until } from './harness/pipeline.js';
import { startPostgres, type PostgresHandle } from './harness/servers.js';

describe('/readyz follows PostgreSQL', () => {
  let pg: PostgresHandle;
  let app: RunningApp;
  let config: Config;

  beforeAll(async () => {
    pg = await startPostgres();
    const admin = postgres(pg.url, { max: 1, onnotice: () => {} });
    await admin`CREATE DATABASE sluice`;
    await admin.end();
    config = pipelineConfig(pg.url.replace(/\/postgres$/, '/sluice'), {
      roles: ['api'],
      httpPort: 0,
      auth: 'off',
    });
    app = await startApp(config, createLogger({ level: 'silent' }), { handleSignals: false });
  }, 120_000);
  afterAll(async () => {
    await app?.stop();
    const nc = await connect({ servers: config.natsUrl });
    await deleteNamespace(nc, config.namespace);
    await nc.close();
    await pg?.dispose();
  });

  it('degrades when PostgreSQL stops and recovers when it returns', async () => {
    const api = client(
      (app.roles.find((r) => r.name === 'api') as unknown as { address: string }).address,
    );
    expect((await api.get('/readyz')).status).toBe(200);

    await pg.stop('fast');
    const down = await api.get('/readyz');
    expect(down.status).toBe(503);
    expect(down.json).toMatchObject({
      status: 'degraded',
      checks: { postgres: { ok: false }, nats: { ok: true }, models: { ok: true } },
    });
    expect(down.json.checks.postgres.error).toEqual(expect.any(String));
    // The process itself is fine, and queries fail with a code, not a hang.
    expect((await api.get('/healthz')).status).toBe(200);
    const q = await api.get('/v1/collections');
    expect(q.status).toBe(503);
    expect(q.json.error.code).toBe('DB_UNAVAILABLE');

    await pg.start();
    await until(async () => (await api.get('/readyz')).status === 200, 30_000, 'ready again');
    expect((await api.get('/v1/collections')).status).toBe(200);
  }, 90_000);
});
