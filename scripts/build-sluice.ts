/**
 * Sluice's sources transpiled to JavaScript by esbuild, file for file, into a folder
 * named after a hash of the sources; prints the CLI's entry. `scripts/start` runs Sluice
 * from it, and so do the benchmarks and the test harness (each with a folder of its own).
 *
 *   tsx scripts/build-sluice.ts    # → <checkout>/.build/<hash>/src/cli/main.js
 *
 * Run through tsx instead, a process keeps its TypeScript loader, its transpiled sources
 * and their source maps in every thread: idle with the chunker, embedder and indexer roles,
 * 899 MB of RSS through tsx against 349 MB from this build (385 MB with
 * --enable-source-maps), and each worker thread spends 1–2 s of CPU loading TypeScript.
 * Only the compilation step differs: same modules, same package root (found from the
 * files, `src/paths.ts`), same node_modules. `npm run build` (tsc, into dist/) is what the
 * Dockerfile ships; this is the quick build of a checkout.
 *
 * The folder name is a hash of the sources (and esbuild's version), so a run never uses
 * stale files and two runs building at once cannot see half a build. A build in use has
 * its folder's time touched; builds of other sources go once not used for `pruneAfterMs`.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, version, type BuildOptions as EsbuildOptions } from 'esbuild';
import { packageRoot } from '../src/paths.js';

export interface BuildOptions {
  /** The folder holding the builds, one per hash of the sources. */
  dir: string;
  /** Builds of other sources not used for this long are removed. */
  pruneAfterMs: number;
}

/**
 * Where `scripts/start` and the benchmarks build. A running process reads its build's
 * files again when it starts a worker thread (the parse worker, a crashed embedder's), so
 * a build is kept 30 days after its last use: a process running longer than that from
 * sources changed since may fail to start a worker.
 */
export const startBuilds: BuildOptions = {
  dir: join(packageRoot, '.build'),
  pruneAfterMs: 30 * 24 * 3600_000,
};

/** esbuild's settings; hashed with the sources, so a change of them is a new build. */
const settings = {
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked', // node --enable-source-maps maps stack traces to src/
  logLevel: 'error',
} satisfies EsbuildOptions;

function sources(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) sources(p, out);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) out.push(p);
  }
  return out.sort();
}

/** Builds (or finds) the transpiled sources; returns the path of the CLI's entry. */
export async function buildSluice(o: BuildOptions = startBuilds): Promise<string> {
  const files = sources(join(packageRoot, 'src'));
  const h = createHash('sha256').update(version).update(JSON.stringify(settings));
  for (const f of files) h.update(relative(packageRoot, f)).update(readFileSync(f));
  const dir = join(o.dir, h.digest('hex').slice(0, 16));
  const entry = join(dir, 'src', 'cli', 'main.js');
  if (!existsSync(entry)) {
    // Two builds in one process (vitest's global set-ups) need names of their own too.
    const building = `${dir}.${randomUUID().slice(0, 8)}.tmp`;
    rmSync(building, { recursive: true, force: true });
    mkdirSync(building, { recursive: true });
    await build({
      entryPoints: files,
      outdir: join(building, 'src'),
      outbase: join(packageRoot, 'src'),
      ...settings,
    });
    try {
      renameSync(building, dir);
    } catch (e) {
      // Another run finished the same build first: use it.
      rmSync(building, { recursive: true, force: true });
      if (!existsSync(entry)) throw e;
    }
  }
  const now = new Date();
  utimesSync(dir, now, now);
  for (const old of readdirSync(o.dir)) {
    const p = join(o.dir, old);
    // Another run may rename or remove its folder meanwhile.
    const at = statSync(p, { throwIfNoEntry: false })?.mtimeMs;
    if (p !== dir && at !== undefined && Date.now() - at > o.pruneAfterMs) {
      rmSync(p, { recursive: true, force: true });
    }
  }
  return entry;
}

// Run as a script (argv[1] is not resolved through symlinks; import.meta.url is).
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  process.stdout.write(`${await buildSluice()}\n`);
}
