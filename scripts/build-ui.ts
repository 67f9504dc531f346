/**
 * Builds the dashboard (ui/) into ui/dist: one JavaScript bundle, one stylesheet and the
 * page, minified, no CDN. Prints the sizes (raw and gzip) so the bundle stays small.
 *
 *   npm run build:ui
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { packageRoot } from '../src/paths.js';

export async function buildUi(): Promise<{ file: string; bytes: number; gzip: number }[]> {
  const root = join(packageRoot, 'ui');
  const out = join(root, 'dist');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: { app: join(root, 'src/main.tsx') },
    outdir: out,
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['chrome110', 'firefox110', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'warning',
  });
  copyFileSync(join(root, 'index.html'), join(out, 'index.html'));
  return ['index.html', 'app.js', 'app.css'].map((file) => {
    const p = join(out, file);
    return { file, bytes: statSync(p).size, gzip: gzipSync(readFileSync(p)).length };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const sizes = await buildUi();
  for (const s of sizes)
    console.log(
      `ui/dist/${s.file.padEnd(10)} ${(s.bytes / 1024).toFixed(1).padStart(7)} KiB  (${(s.gzip / 1024).toFixed(1)} KiB gzip)`,
    );
}
