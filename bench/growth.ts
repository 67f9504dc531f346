/**
 * How search grows with the collection: `bench:search` at each size, one after another
 * (each in a database of its own, dropped after), then a table across sizes and three
 * SVG charts written beside bench/README.md:
 *
 *   search-growth-latency.svg   p50 / p99 of POST /v1/search per mode, 1 connection
 *   search-growth-postings.svg  postings a keyword query reads, p50 / p99, and the
 *                               exhaustive count it is checked against
 *   search-growth-build.svg     load, keyword index and HNSW build rates, chunks/s
 *
 *   npm run bench:growth -- [--sizes 10000,100000,1000000] [--seconds 5] [--vector-max 100000] [--exact-queries 300] [--queries 1109] [--keyword-memory MB] [--out bench]
 *
 * Sizes above --vector-max run keyword search only: they skip the HNSW build, which
 * grows faster than linearly and would take most of the run at 1M chunks on 2 cores.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../src/paths.js';
import { countsFlag, flag, machine, table, textFlag } from './lib.js';
import type { SearchFigures } from './search.js';
import { lineChart, shortNumber, type Series } from './svg.js';

const SIZES = countsFlag('sizes', '10000,100000,1000000');
const SECONDS = flag('seconds', 5);
const VECTOR_MAX = flag('vector-max', 100_000);
const OUT = textFlag('out') ?? join(packageRoot, 'bench');
const MODES = ['vector', 'keyword', 'hybrid'] as const;

function runSearch(chunks: number, json: string): Promise<void> {
  const modes = chunks > VECTOR_MAX ? 'keyword' : MODES.join(',');
  const args = ['--chunks', String(chunks), '--seconds', String(SECONDS), '--modes', modes];
  const exact = textFlag('exact-queries');
  if (exact !== undefined) args.push('--exact-queries', exact);
  const memory = textFlag('keyword-memory');
  if (memory !== undefined) args.push('--keyword-memory', memory);
  const queries = textFlag('queries');
  if (queries !== undefined) args.push('--queries', queries);
  process.stderr.write(`\n=== bench:search ${args.join(' ')}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(packageRoot, 'bench', 'search.ts'), ...args, '--json', json],
      { cwd: packageRoot, stdio: ['ignore', 'inherit', 'inherit'] },
    );
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`bench:search --chunks ${chunks}: exit ${code}`)),
    );
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-growth-'));
  const runs: SearchFigures[] = [];
  // A size that fails is reported and left out; the others are still tabled and charted.
  const failed: string[] = [];
  try {
    for (const n of SIZES) {
      const file = join(dir, `${n}.json`);
      try {
        await runSearch(n, file);
        runs.push(JSON.parse(readFileSync(file, 'utf8')) as SearchFigures);
      } catch (err) {
        failed.push(`${shortNumber(n)}: ${(err as Error).message}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (runs.length === 0) throw new Error(`every size failed: ${failed.join('; ')}`);

  const ms = (v: number | undefined): string => (v === undefined ? '—' : v.toFixed(1));
  const rows = runs.map((r) => {
    const l = (mode: string) => r.latency[mode]?.['1'];
    const e = r.exact['none'];
    return [
      r.chunks.toLocaleString('en-US'),
      ...MODES.flatMap((m) => [`${ms(l(m)?.httpP50)} / ${ms(l(m)?.httpP99)}`]),
      `${ms(l('keyword')?.sqlP50)} / ${ms(l('keyword')?.sqlP99)}`,
      r.cold ? `${ms(r.cold.p50)} / ${ms(r.cold.p99)} (${r.cold.listsMB.toFixed(0)} MB)` : '—',
      e ? `${e.equalPct.toFixed(1)}%` : '—',
      e
        ? `${e.postingsReadP50.toLocaleString('en-US')} / ${e.postingsReadP99.toLocaleString('en-US')}`
        : '—',
      Math.round(r.chunks / r.loadSeconds),
      Math.round(r.chunks / r.keywordBuildSeconds),
      r.hnswSeconds === null ? '—' : Math.round(r.chunks / r.hnswSeconds),
    ];
  });
  process.stdout.write(
    `\nSearch growth — ${SIZES.map(shortNumber).join(', ')} chunks, ${SECONDS} s per figure, 1 connection, ${machine()}\n\n` +
      `${table(
        [
          'chunks',
          'vector HTTP p50 / p99 ms',
          'keyword HTTP p50 / p99 ms',
          'hybrid HTTP p50 / p99 ms',
          'keyword SQL p50 / p99 ms',
          'keyword first pass p50 / p99 ms (lists held)',
          'keyword top 10 exact',
          'postings read p50 / p99',
          'load chunks/s',
          'keyword build chunks/s',
          'HNSW build chunks/s',
        ],
        rows,
      )}\n`,
  );

  const latency: Series[] = MODES.flatMap((mode, colour) =>
    (['httpP50', 'httpP99'] as const).map((p) => ({
      name: `${mode} ${p === 'httpP50' ? 'p50' : 'p99'}`,
      colour,
      dashed: p === 'httpP99',
      // autocannon counts whole milliseconds: a 0 is under 1 ms, drawn at 0.5.
      points: runs
        .filter((r) => r.latency[mode]?.['1'])
        .map((r): [number, number] => [r.chunks, Math.max(0.5, r.latency[mode]!['1']![p])]),
    })),
  );
  const exact = (pick: (e: SearchFigures['exact'][string]) => number) =>
    runs
      .filter((r) => r.exact['none'])
      .map((r): [number, number] => [r.chunks, pick(r.exact['none']!)]);
  const charts: [string, Parameters<typeof lineChart>[0]][] = [
    [
      'search-growth-latency.svg',
      {
        title: 'POST /v1/search latency, 1 connection',
        x: 'chunks in the collection',
        y: 'ms',
        series: latency,
      },
    ],
    [
      'search-growth-postings.svg',
      {
        title: 'Postings a keyword query reads',
        x: 'chunks in the collection',
        y: 'postings per query',
        series: [
          { name: 'read p50', colour: 0, points: exact((e) => e.postingsReadP50) },
          { name: 'read p99', colour: 0, dashed: true, points: exact((e) => e.postingsReadP99) },
        ],
      },
    ],
    [
      'search-growth-build.svg',
      {
        title: 'Bulk load and index builds',
        x: 'chunks in the collection',
        y: 'chunks per second',
        series: [
          { name: 'rows loaded', points: runs.map((r) => [r.chunks, r.chunks / r.loadSeconds]) },
          {
            name: 'keyword index',
            points: runs.map((r) => [r.chunks, r.chunks / r.keywordBuildSeconds]),
          },
          {
            name: 'HNSW + VACUUM',
            points: runs
              .filter((r) => r.hnswSeconds !== null)
              .map((r) => [r.chunks, r.chunks / r.hnswSeconds!]),
          },
        ],
      },
    ],
  ];
  mkdirSync(OUT, { recursive: true });
  for (const [file, chart] of charts) {
    writeFileSync(join(OUT, file), lineChart(chart));
    process.stderr.write(`wrote ${join(OUT, file)}\n`);
  }
  if (failed.length > 0) {
    process.stderr.write(`failed, left out: ${failed.join('; ')}\n`);
    process.exitCode = 1;
  }
}

await main();
