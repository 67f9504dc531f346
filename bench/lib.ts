/**
 * Shared by the benchmarks: servers from infra/local/up (or NATS_URL/DATABASE_URL),
 * a namespace of their own, medians and a markdown table. Benchmarks print figures;
 * they never pass or fail on a timing.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import postgres from 'postgres';
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { buildSluice } from '../scripts/build-sluice.js';
import { createDatabase, runMigrations } from '../src/db/index.js';
import { packageRoot } from '../src/paths.js';

export function servers(): { natsUrl: string; databaseUrl: string } {
  if (process.env.NATS_URL && process.env.DATABASE_URL) {
    return { natsUrl: process.env.NATS_URL, databaseUrl: process.env.DATABASE_URL };
  }
  const out = execFileSync(join(packageRoot, 'infra/local/up'), {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const env: Record<string, string> = Object.fromEntries(
    [...out.matchAll(/^export ([A-Z_]+)='(.*)'$/gm)].map((m) => [m[1]!, m[2]!]),
  );
  return {
    natsUrl: process.env.NATS_URL ?? env.NATS_URL!,
    databaseUrl: process.env.DATABASE_URL ?? env.DATABASE_URL!,
  };
}

export function benchNamespace(prefix = 'bench'): string {
  return `${prefix}${randomBytes(4).toString('hex')}`;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export { percentile } from '../src/eval/metrics.js';

/** A flag's text: --name value or --name=value; undefined when absent. */
export function textFlag(name: string): string | undefined {
  const argv = process.argv;
  const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  return argv[i]!.includes('=') ? argv[i]!.slice(argv[i]!.indexOf('=') + 1) : argv[i + 1];
}

/** Integer flags: --name 123 or --name=123. */
export function flag(name: string, fallback: number): number {
  const raw = textFlag(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new Error(`--${name} needs a number`);
  return n;
}

/** A comma-separated list of whole numbers ≥ 1: --sizes 10000,100000. */
export function countsFlag(name: string, fallback: string): number[] {
  const counts = (textFlag(name) ?? fallback).split(',').map(Number);
  if (counts.some((n) => !Number.isInteger(n) || n < 1))
    throw new Error(`--${name} needs positive whole numbers, e.g. ${fallback}`);
  return counts;
}

export function table(headers: string[], rows: (string | number)[][]): string {
  const fmt = (v: string | number): string =>
    typeof v === 'number' ? v.toLocaleString('en-US', { maximumFractionDigits: 2 }) : v;
  const lines = [`| ${headers.join(' | ')} |`, `| ${headers.map(() => '---').join(' | ')} |`];
  for (const r of rows) lines.push(`| ${r.map(fmt).join(' | ')} |`);
  return lines.join('\n');
}

export function machine(): string {
  return `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}`;
}

/** A migrated database of its own for one benchmark run; drop() removes it. */
export async function benchDatabase(
  databaseUrl: string,
): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `sluice_bench_${randomBytes(4).toString('hex')}`;
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const a = postgres(admin.toString(), { max: 1, onnotice: () => {} });
  await a.unsafe(`CREATE DATABASE "${name}"`);
  await a.end();
  const u = new URL(databaseUrl);
  u.pathname = `/${name}`;
  const db = createDatabase({ url: u.toString(), max: 2 });
  await runMigrations(db);
  await db.close();
  return {
    url: u.toString(),
    drop: async () => {
      const b = postgres(admin.toString(), { max: 1, onnotice: () => {} });
      await b.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await b.end();
    },
  };
}

/** Resident set size of a process in MB, from /proc (current and peak). */
export function rssOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number =>
    Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** Models and datasets: SLUICE_SHARED_DIR, else ../shared beside the checkout. */
export const sharedDir = process.env.SLUICE_SHARED_DIR ?? join(packageRoot, '..', 'shared');

export interface Passage {
  id: string;
  title: string;
  text: string;
}

/** The first N SciFact documents (CC BY-NC: read at run time, never copied into the repository). */
export function passages(n: number): Passage[] {
  const lines = readFileSync(join(sharedDir, 'datasets/scifact/corpus.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean);
  return lines.slice(0, n).map((l) => {
    const d = JSON.parse(l) as { _id: string; title: string; text: string };
    return { id: d._id, title: d.title, text: `${d.title}\n\n${d.text}` };
  });
}

/**
 * Node flags that write a CPU profile of each process into BENCH_CPU_PROF (a folder),
 * when set: `node --cpu-prof` cannot go through NODE_OPTIONS.
 */
export function profileFlags(): string[] {
  const dir = process.env.BENCH_CPU_PROF;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
}

/** What `scripts/start` runs: the sources transpiled (scripts/build-sluice.ts), not tsx. */
const entry = await buildSluice();

/** Node's arguments for `sluice <args>` as `scripts/start` runs it (and profiled if asked). */
function sluiceArgs(args: string[]): string[] {
  return [...profileFlags(), '--enable-source-maps', entry, ...args];
}

/**
 * A `sluice` process as `scripts/start` runs it (built JavaScript, source maps on), its
 * output kept (the last 50 kB).
 */
export function sluice(
  args: string[],
  env: Record<string, string>,
): { child: ChildProcess; log: () => string } {
  const child = spawn(process.execPath, sluiceArgs(args), {
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out = (out + b.toString()).slice(-50_000)));
  child.stderr.on('data', (b: Buffer) => (out = (out + b.toString()).slice(-50_000)));
  return { child, log: () => out };
}

/** SIGTERM, then its exit (at once when it has already exited). */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/**
 * Waits for a `sluice` process's "sluice started" line. The deadline is generous: on a
 * machine shared with other work, starting (compiling from source, loading models) took
 * over two minutes. A process that exits or misses it fails with its log.
 */
export async function waitStarted(
  p: { child: ChildProcess; log: () => string },
  what = 'sluice started',
): Promise<void> {
  try {
    await waitFor(
      () => {
        if (p.child.exitCode !== null) throw new Error(`exited with ${p.child.exitCode}`);
        return p.log().includes('"msg":"sluice started"');
      },
      600_000,
      what,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; its log ends:\n${p.log().slice(-4000)}`);
  }
}

export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * `sluice start --roles api` in a process of its own, as deployed; resolves once it
 * listens, with its address and a stop() that waits for the exit.
 */
export async function apiProcess(
  env: Record<string, string>,
): Promise<{ address: string; stop: () => Promise<void> }> {
  const api = spawn(process.execPath, sluiceArgs(['start', '--roles', 'api']), {
    env: { ...process.env, SLUICE_HTTP_PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  api.stdout.on('data', (b: Buffer) => (out += b.toString()));
  while (!/"address":"(http:[^"]+)"/.test(out)) {
    if (api.exitCode !== null) throw new Error(`api exited:\n${out}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    address: /"address":"(http:[^"]+)"/.exec(out)![1]!,
    stop: () => stopProcess(api),
  };
}

/** Waits until `n` documents are in the index with every chunk row written. */
export async function waitAllIndexed(
  sql: postgres.Sql,
  n: number,
  timeoutMs: number,
): Promise<void> {
  await waitFor(
    async () => {
      const [r] = await sql<{ docs: number; pending: number }[]>`
        SELECT count(*)::int AS docs,
               count(*) FILTER (WHERE d.chunk_count <> (SELECT count(*) FROM index_chunks c
                 WHERE c.model_id = d.model_id AND c.tenant = d.tenant AND c.collection = d.collection AND c.document_id = d.document_id))::int AS pending
        FROM index_documents d WHERE d.version > 0`;
      return r!.docs === n && r!.pending === 0;
    },
    timeoutMs,
    'every passage indexed',
  );
}
