import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteNamespace } from '../src/topology/index.js';
import { runCli } from './harness/cli.js';
import { testConfig } from './harness/config.js';
import { createTestDatabase, type TestDatabase } from './harness/database.js';

/** A model that cannot be had stops start-up with one line that says what to do. */
describe('sluice start without its model', () => {
  let db: TestDatabase;
  let dir: string;
  const config = testConfig();
  beforeAll(async () => {
    db = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'sluice-models-'));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    const nc = await connect({ servers: config.natsUrl });
    await deleteNamespace(nc, config.namespace);
    await nc.close();
    await db?.drop();
  });

  const start = (env: Record<string, string>) =>
    runCli(['start', '--roles', 'embedder'], {
      NATS_URL: config.natsUrl.join(','),
      DATABASE_URL: db.url,
      SLUICE_NAMESPACE: config.namespace,
      SLUICE_MODELS: 'sluice-test/no-such-model',
      SLUICE_MODELS_DIR: dir,
      ...env,
    });

  it.each([
    // Downloads allowed: the hub cannot be reached here, or has no such model.
    ['true', 'MODEL_UNAVAILABLE', /could not be downloaded from the Hugging Face hub/],
    ['false', 'MODEL_NOT_FOUND', /SLUICE_ALLOW_REMOTE_MODELS=true/],
  ])('SLUICE_ALLOW_REMOTE_MODELS=%s: %s, no stack trace', async (remote, code, detail) => {
    const r = await start({ SLUICE_ALLOW_REMOTE_MODELS: remote });
    expect(r.code).toBe(1);
    const error = r.stderr.split('\n').find((l) => l.startsWith('error ['));
    expect(error).toMatch(new RegExp(`^error \\[${code}\\]: model sluice-test/no-such-model `));
    expect(error).toContain(dir);
    expect(error).toMatch(detail);
    expect(error).toContain('SLUICE_MODELS');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
