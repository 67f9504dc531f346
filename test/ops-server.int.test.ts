import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processId, readHeartbeats, startHeartbeat } from '../src/ops/index.js';
import { createLogger } from '../src/logger.js';
import type { RunningApp } from '../src/app/start.js';
import { startTestApp, type TestApp } from './harness/app.js';
import { client } from './harness/http.js';

/**
 * A process without the api role still answers probes and scrapes on SLUICE_OPS_PORT,
 * and says it runs in the processes bucket until it stops.
 */
describe('a worker process: ops server and heartbeat', () => {
  let t: TestApp;
  let app: RunningApp;

  beforeAll(async () => {
    t = await startTestApp({ roles: ['chunker'], opsPort: 0 });
    app = t.app;
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
  });

  it('serves /healthz, /readyz and /metrics labelled with its role, and nothing else', async () => {
    const ops = client(app.opsAddress!);
    expect((await ops.get('/healthz')).json).toEqual({ status: 'ok' });
    const ready = await ops.get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.json.checks).toEqual({
      nats: { ok: true },
      postgres: { ok: true },
      pipeline: { ok: true },
    });
    expect((await ops.get('/metrics')).json).toMatch(
      /sluice_process_cpu_seconds_total\{role="chunker"\}/,
    );
    expect((await ops.post('/v1/events', {})).status).toBe(404);
  });

  it('is listed in the processes bucket while it runs, and no longer once stopped', async () => {
    const beats = await readHeartbeats(t.nc, t.config.namespace);
    expect(beats).toHaveLength(1);
    expect(beats[0]).toMatchObject({ pid: process.pid, roles: ['chunker'], openBreakers: [] });
    await app.stop();
    expect(await readHeartbeats(t.nc, t.config.namespace)).toEqual([]);
  });

  it('lists a process once when its start is retried after a first beat that was written', async () => {
    // What start.ts does when the first beat times out on a busy cluster: try again.
    const ns = t.config.namespace;
    const o = {
      nc: t.nc,
      namespace: ns,
      roles: ['embedder'],
      breakers: app.ctx.breakers,
      logger: createLogger({ level: 'silent' }),
      id: processId(),
    };
    const first = await startHeartbeat(o);
    const retried = await startHeartbeat(o);
    const embedders = async () =>
      (await readHeartbeats(t.nc, ns)).filter((b) => b.roles.includes('embedder'));
    expect((await embedders()).map((b) => b.id)).toEqual([o.id]);
    await first.stop();
    await retried.stop();
    expect(await embedders()).toEqual([]);
  });
});
