import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { build, version } from 'esbuild';
import { packageRoot } from '../../src/paths.js';

/**
 * Sluice's sources transpiled once per test run, for the processes the tests start.
 *
 * A `sluice` child process run through tsx spends 3–6 s of CPU loading its TypeScript
 * (the loader thread, then again in each worker thread it starts) before it does anything;
 * the suite starts about a hundred of them on two cores. The same files transpiled by
 * esbuild (what tsx does file by file, without type checks) start in a third of that.
 * Only the compilation step differs from `npm run sluice`: same modules, same package
 * root (found from the files, `src/paths.ts`), same node_modules. The tests that check
 * the from-source path (`scripts/start`, `infra/local/up`) still run through tsx.
 *
 * The folder is named after a hash of the sources, so a run never uses stale files and
 * two runs (or vitest's two server projects) building at once cannot see half a build.
 */
const CACHE = join(packageRoot, '.test-build');
const OLD_AFTER_MS = 6 * 3600_000;

function sources(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) sources(p, out);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) out.push(p);
  }
  return out.sort();
}

/** Builds (or finds) the transpiled sources; returns the path of the CLI's entry. */
export async function buildSluice(): Promise<string> {
  const files = sources(join(packageRoot, 'src'));
  const h = createHash('sha256').update(version);
  for (const f of files) h.update(relative(packageRoot, f)).update(readFileSync(f));
  const dir = join(CACHE, h.digest('hex').slice(0, 16));
  const entry = join(dir, 'src', 'cli', 'main.js');
  if (existsSync(entry)) return entry;

  const building = `${dir}.${process.pid}.tmp`;
  rmSync(building, { recursive: true, force: true });
  mkdirSync(building, { recursive: true });
  await build({
    entryPoints: files,
    outdir: join(building, 'src'),
    outbase: join(packageRoot, 'src'),
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'linked', // NODE_OPTIONS=--enable-source-maps maps stack traces to src/
    logLevel: 'error',
  });
  try {
    renameSync(building, dir);
  } catch (e) {
    // Another run finished the same build first: use it.
    rmSync(building, { recursive: true, force: true });
    if (!existsSync(entry)) throw e;
  }
  // Builds of other sources go once no run of the suite can still be using them.
  for (const old of readdirSync(CACHE)) {
    const p = join(CACHE, old);
    if (p !== dir && Date.now() - statSync(p).mtimeMs > OLD_AFTER_MS) {
      rmSync(p, { recursive: true, force: true });
    }
  }
  return entry;
}
