import { join } from 'node:path';
import { packageRoot } from '../../src/paths.js';
import { buildSluice as build } from '../../scripts/build-sluice.js';

/**
 * Sluice's sources transpiled once per test run (scripts/build-sluice.ts), for the
 * processes the tests start: a `sluice` child process run through tsx spends 3–6 s of
 * CPU loading its TypeScript before it does anything, and the suite starts about a
 * hundred of them on two cores; the same files transpiled by esbuild start in a third
 * of that. The tests that check the from-source path (`infra/local/up`) and the
 * `npm run sluice` commands still run through tsx.
 *
 * A folder of its own: builds of other sources go once no run of the suite can still
 * be using them (6 h).
 */
export function buildSluice(): Promise<string> {
  return build({ dir: join(packageRoot, '.test-build'), pruneAfterMs: 6 * 3600_000 });
}
