/**
 * Sluice against LangChain.js, in one run: the same SciFact documents become searchable
 * in pgvector, with the same model file on the same onnxruntime-node.
 *
 *   npm run bench:langchain -- [--passages 2000] [--rounds 2] [--batch 16] [--peers documented,batched]
 *
 * Sluice: `sluice start` with every role in one process; the documents go through
 * `POST /v1/events` in batches of 100, and the clock stops when every document's chunks
 * are in the index and a search over HTTP answers. LangChain.js: bench/langchain/ingest.js
 * in a process of its own (its documented path: split, embed with transformers.js in
 * batches of --batch, PGVectorStore.fromDocuments), stopped when a similarity search
 * answers. Each side chunks as it does by default, so the chunk counts differ; the
 * figure that matters is documents per second. Rounds alternate which side goes first.
 * Peer `batched` is the same LangChain.js with the embeddings handed one batch at a time
 * (its embedDocuments starts every batch at once, which ran at half the rate here): the
 * best a LangChain.js user gets from this stack, so the comparison does not rest on it.
 *
 * LangChain.js is not a dependency of Sluice: its packages are installed into
 * bench/langchain/node_modules (npm ci, from that folder's lockfile) the first time.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import postgres from 'postgres';
import { createKey } from '../src/api/keys.js';
import { packageRoot } from '../src/paths.js';
import { deleteNamespace } from '../src/topology/index.js';
import {
  benchDatabase,
  benchNamespace,
  flag,
  machine,
  median,
  passages,
  rssOf,
  servers,
  sharedDir,
  sluice,
  stopProcess,
  table,
  textFlag,
  waitAllIndexed,
  waitStarted,
  type Passage,
} from './lib.js';

const PASSAGES = flag('passages', 2000);
const ROUNDS = flag('rounds', 2);
const BATCH = flag('batch', 16);
const PEERS = (textFlag('peers') ?? 'documented,batched').split(',');
if (PEERS.some((p) => p !== 'documented' && p !== 'batched'))
  throw new Error('--peers takes documented, batched or both');
const MODEL = 'minilm-l6-random';
const MODELS_DIR = join(sharedDir, 'models');
const PEER_DIR = join(packageRoot, 'bench/langchain');

interface Result {
  seconds: number;
  chunks: number;
  peakRssMb: number;
}

/**
 * `npm ci` in bench/langchain, unless its node_modules was installed from this very
 * lockfile (a hash written after a complete install: an interrupted one, or a changed
 * lockfile, installs again).
 */
function installPeer(): void {
  const lock = createHash('sha256')
    .update(readFileSync(join(PEER_DIR, 'package-lock.json')))
    .digest('hex');
  const marker = join(PEER_DIR, 'node_modules/.sluice-lockfile-sha256');
  if (existsSync(marker) && readFileSync(marker, 'utf8') === lock) return;
  process.stderr.write('installing LangChain.js into bench/langchain/node_modules (npm ci)…\n');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], {
    cwd: PEER_DIR,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
  });
  writeFileSync(marker, lock);
}

async function sluiceRound(natsUrl: string, databaseUrl: string, docs: Passage[]): Promise<Result> {
  const db = await benchDatabase(databaseUrl);
  const namespace = benchNamespace('blc');
  const sql = postgres(db.url, { max: 1, onnotice: () => {} });
  const p = sluice(['start'], {
    NATS_URL: natsUrl,
    DATABASE_URL: db.url,
    SLUICE_NAMESPACE: namespace,
    SLUICE_MODELS_DIR: MODELS_DIR,
    SLUICE_MODELS: MODEL,
    SLUICE_EMBED_THREADS: '2',
    SLUICE_HTTP_PORT: '0',
  });
  let sampler: NodeJS.Timeout | undefined;
  try {
    // The API logs its address before the process logs that it started.
    await waitStarted(p);
    const address = /"address":"(http:[^"]+)"/.exec(p.log())![1]!;
    const { key } = await createKey(sql, { tenant: 'bench' });
    const headers = { authorization: `Bearer ${key}` };
    let peak = 0;
    sampler = setInterval(() => (peak = Math.max(peak, rssOf(p.child.pid!).rss)), 200);
    const t0 = performance.now();
    for (let i = 0; i < docs.length; i += 100) {
      const batch = docs.slice(i, i + 100).map((d) => ({
        specversion: '1.0',
        id: `${d.id}-v1`,
        source: 'urn:bench',
        type: 'sluice.document.upserted.v1',
        data: {
          tenant: 'bench',
          collection: 'scifact',
          documentId: d.id,
          title: d.title,
          text: d.text,
        },
      }));
      const res = await fetch(`${address}/v1/events`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/cloudevents-batch+json' },
        body: JSON.stringify(batch),
      });
      if (!res.ok) throw new Error(`POST /v1/events: ${res.status} ${await res.text()}`);
    }
    await waitAllIndexed(sql, docs.length, 1_800_000);
    const search = await fetch(`${address}/v1/search`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ collection: 'scifact', query: docs[0]!.title, mode: 'vector', k: 1 }),
    });
    const found = ((await search.json()) as { results?: unknown[] }).results?.length ?? 0;
    if (!search.ok || found === 0) throw new Error(`search after ingest: ${search.status}`);
    const seconds = (performance.now() - t0) / 1000;
    const [counted] = await sql<
      { chunks: number }[]
    >`SELECT count(*)::int AS chunks FROM index_chunks`;
    return {
      seconds,
      chunks: counted!.chunks,
      peakRssMb: Math.max(peak, rssOf(p.child.pid!).peak),
    };
  } finally {
    clearInterval(sampler);
    await stopProcess(p.child);
    try {
      await sql.end();
      const nc = await connect({ servers: natsUrl });
      await deleteNamespace(nc, namespace).finally(() => nc.close());
    } finally {
      await db.drop();
    }
  }
}

async function langchainRound(
  databaseUrl: string,
  docsFile: string,
  mode: string,
): Promise<Result> {
  const db = await benchDatabase(databaseUrl);
  try {
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [join(PEER_DIR, 'ingest.js'), docsFile, MODELS_DIR, MODEL, db.url, String(BATCH), mode],
        { cwd: PEER_DIR, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      // The same deadline as Sluice's side (waitAllIndexed).
      const deadline = setTimeout(() => child.kill('SIGKILL'), 1_800_000);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
      child.stderr.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-20_000)));
      child.once('error', reject);
      child.once('exit', (code, signal) => {
        clearTimeout(deadline);
        if (code === 0) resolve(stdout);
        else reject(new Error(`LangChain.js exited with ${code ?? signal}:\n${stderr}`));
      });
    });
    const line = out.trim().split('\n').at(-1)!;
    const r = JSON.parse(line) as Result & { found: number };
    if (r.found === 0) throw new Error('LangChain.js: the search after ingest found nothing');
    return r;
  } finally {
    await db.drop();
  }
}

async function main(): Promise<void> {
  installPeer();
  const { natsUrl, databaseUrl } = servers();
  const docs = passages(PASSAGES);
  const dir = mkdtempSync(join(tmpdir(), 'bench-langchain-'));
  const docsFile = join(dir, 'docs.json');
  writeFileSync(docsFile, JSON.stringify(docs));
  const results = new Map<string, Result[]>([
    ['sluice', []],
    ...PEERS.map((p): [string, Result[]] => [p, []]),
  ]);
  try {
    for (let r = 0; r < ROUNDS; r++) {
      const sides = [...results.keys()];
      const order = r % 2 === 0 ? sides : sides.reverse();
      for (const side of order) {
        process.stderr.write(`round ${r + 1}: ${side}, ${docs.length} documents… `);
        const res =
          side === 'sluice'
            ? await sluiceRound(natsUrl, databaseUrl, docs)
            : await langchainRound(databaseUrl, docsFile, side);
        results.get(side)!.push(res);
        process.stderr.write(`${res.seconds.toFixed(1)} s\n`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const seconds = (side: string): number => median(results.get(side)!.map((x) => x.seconds));
  const names: Record<string, string> = {
    sluice: 'Sluice: POST /v1/events → searchable (all roles, one process)',
    documented: `LangChain.js: split → embed (batch ${BATCH}) → PGVectorStore.fromDocuments → searchable`,
    batched: `LangChain.js, embeddings handed one batch of ${BATCH} at a time → addVectors → searchable`,
  };
  const rows = [...results].map(([side, rs]): (string | number)[] => {
    const s = seconds(side);
    return [
      names[side]!,
      Math.round(s * 10) / 10,
      rs.map((x) => x.seconds.toFixed(1)).join(', '),
      Math.round((docs.length / s) * 10) / 10,
      rs[0]!.chunks,
      Math.round((rs[0]!.chunks / s) * 10) / 10,
      Math.round(Math.max(...rs.map((x) => x.peakRssMb))),
      side === 'sluice' ? 1 : Math.round((s / seconds('sluice')) * 100) / 100,
    ];
  });
  process.stdout.write(
    `\nSluice against LangChain.js — ${docs.length} SciFact documents until searchable, ${MODEL} int8, ` +
      `${ROUNDS} alternating rounds (median), ${machine()}\n\n`,
  );
  process.stdout.write(
    `${table(
      [
        'path',
        'seconds (median)',
        'rounds',
        'documents/s',
        'chunks',
        'chunks/s',
        'peak RSS MB',
        "its time ÷ Sluice's",
      ],
      rows,
    )}\n`,
  );
}

await main();
