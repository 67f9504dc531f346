import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './harness/cli.js';
import { testModelsDir } from './harness/models.js';
import { pipelineModel } from './harness/pipeline.js';

/** `sluice models pull`, the init step of a deployment (infra/k8s runs it before the roles). */
describe('sluice models pull', () => {
  it('reports a model already in SLUICE_MODELS_DIR and exits 0', async () => {
    const r = await runCli(['models', 'pull'], {
      SLUICE_MODELS_DIR: testModelsDir(),
      SLUICE_MODELS: pipelineModel,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${pipelineModel}: present in .* \\(\\d+ dimensions`));
  });

  it('says what is missing and exits 1 when the model is neither there nor downloadable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-models-'));
    try {
      // This machine cannot reach the hub, and the name does not exist there either.
      const r = await runCli(['models', 'pull'], {
        SLUICE_MODELS_DIR: dir,
        SLUICE_MODELS: 'sluice-test/no-such-model',
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('[MODEL_UNAVAILABLE]');
      expect(r.stderr).toContain(join(dir, 'sluice-test/no-such-model'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
