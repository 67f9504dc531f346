import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { packageRoot } from '../../src/paths.js';

/** ../shared/models beside the checkout (CI), or SLUICE_TEST_MODELS_DIR. */
export function testModelsDir(): string {
  return resolve(process.env.SLUICE_TEST_MODELS_DIR ?? join(packageRoot, '..', 'shared', 'models'));
}

export function hasModel(name: string): boolean {
  return existsSync(join(testModelsDir(), name, 'tokenizer.json'));
}

/** A model for plumbing and throughput: MiniLM's graph with random weights. */
export const RANDOM_MODEL = 'minilm-l6-random';
/** A small static model whose vectors carry some meaning. */
export const STATIC_MODEL = 'sluice-static-384';
