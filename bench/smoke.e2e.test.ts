import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { packageRoot } from '../src/paths.js';
import { testModelsDir } from '../test/harness/models.js';

/**
 * Every benchmark script, at a tiny size, runs to its end and prints its table: the
 * scripts keep working as the code under them changes. No timing is asserted (figures
 * at this size mean nothing); the numbers worth reading come from `npm run bench:*`.
 * The longest runs come first, so that the last to start are short.
 */
const runs: [script: string, args: string[]][] = [
  // Its charts go to a folder of their own, not beside bench/README.md.
  [
    'growth',
    [
      '--sizes',
      '100,200',
      '--seconds',
      '0.5',
      '--vector-max',
      '100',
      '--exact-queries',
      '20',
      '--queries',
      '100',
      '--out',
      mkdtempSync(join(tmpdir(), 'growth-')),
    ],
  ],
  [
    'search',
    [
      '--chunks',
      '200',
      '--seconds',
      '0.5',
      '--connections',
      '2',
      '--exact-queries',
      '20',
      '--queries',
      '100',
    ],
  ],
  // Needs Debian's r-doc-pdf, postgresql-doc-15, pandoc and poppler-utils: scripts/test
  // (which `npm run bench:smoke` goes through) installs them.
  ['files', ['--pdfs', '1', '--html', '2', '--docx', '1', '--queries', '2']],
  // The first run installs LangChain.js into bench/langchain/node_modules from the npm
  // registry (about 600 MB, half a minute).
  ['langchain', ['--passages', '10', '--rounds', '1']],
  [
    'pipeline',
    [
      '--passages',
      '20',
      '--rounds',
      '1',
      '--backlog-seconds',
      '1',
      '--small-backlog',
      '5',
      '--large-backlog',
      '10',
    ],
  ],
  ['tracing', ['--passages', '10', '--rounds', '1', '--calls', '1000']],
  ['ui', ['--chunks', '200', '--loads', '1']],
  ['replay', ['--passages', '20', '--copies', '1', '--reembed', '8']],
  ['webhooks', ['--docs', '10']],
  ['producer', ['--events', '200', '--rounds', '1', '--http-seconds', '1']],
  ['chunker', ['--from-kb', '4', '--to-mb', '0.008']],
];

function bench(script: string, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(packageRoot, 'bench', `${script}.ts`), ...args],
      {
        cwd: packageRoot,
        env: {
          ...process.env,
          NATS_URL: inject('natsUrl'),
          DATABASE_URL: inject('databaseUrl'),
          SLUICE_SHARED_DIR: dirname(testModelsDir()),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
        // Stopped before the test's own timeout, so that a hung run does not outlive it.
        timeout: 870_000,
      },
    );
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out = (out + b.toString()).slice(-20_000)));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, out }));
  });
}

// Side by side, a few at a time (the bench project's maxConcurrency): most of each run is
// fixed-length timed rows and waits, so one at a time would leave the cores idle. Each
// works in a namespace and a database of its own. Seconds each on an idle machine;
// minutes when other work shares its cores.
describe.concurrent('benchmarks at a tiny size', () => {
  it.each(runs)(
    'bench:%s runs to its end and prints its table',
    async (script, args) => {
      const { code, out } = await bench(script, args);
      expect(code, out).toBe(0);
      expect(out).toMatch(/^\| .+ \|$/m);
    },
    900_000,
  );
});
