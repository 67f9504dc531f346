/**
 * Raw files: the parse stage alone and the whole pipeline, and known-item search with
 * page numbers, on real documents from Debian (r-doc-pdf, postgresql-doc-15; pandoc
 * writes the DOCX; poppler-utils' pdftotext is the independent reader of a page).
 *
 *   apt-get install -y r-doc-pdf postgresql-doc-15 pandoc poppler-utils
 *   npm run bench:files -- [--pdfs 4] [--html 100] [--docx 10] [--queries 40] [--seed 1]
 *
 * Parse alone: FileParser (the worker thread the parser role uses) over every file of a
 * format, one after another. Pipeline: each file uploaded with
 * POST /v1/documents/{collection}/{id}, from the first upload until every document is
 * indexed (api, parser, chunker, embedder (sluice-static-384), indexer, projector in
 * this process). Known-item: a sentence of a random page (pdftotext -f p -l p for the
 * PDFs; pandoc's plain text for the HTML pages) searched in keyword mode through the
 * HTTP API; a hit is the right document, and for PDFs also a chunk whose pages include p.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { startApp } from '../src/app/start.js';
import { loadConfig } from '../src/config/index.js';
import { FileParser } from '../src/consumers/parser/index.js';
import { createLogger } from '../src/logger.js';
import { deleteNamespace } from '../src/topology/index.js';
import { connect } from '@nats-io/transport-node';
import { benchDatabase, benchNamespace, flag, machine, servers, sharedDir, table } from './lib.js';

/** The first N of the four R manuals. */
const PDF_FILES = flag('pdfs', 4);
const HTML_PAGES = flag('html', 100);
const DOCX_FILES = flag('docx', 10);
const QUERIES = flag('queries', 40);
let seed = flag('seed', 1);
const random = (): number => {
  // mulberry32: the same sample every run with the same --seed.
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = <T>(xs: T[], n: number): T[] => {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a.slice(0, n);
};

const PDF_DIR = '/usr/share/doc/r-doc-pdf/manual';
const HTML_DIR = '/usr/share/doc/postgresql-doc-15/html';
for (const [dir, pkg] of [
  [PDF_DIR, 'r-doc-pdf'],
  [HTML_DIR, 'postgresql-doc-15'],
] as const) {
  if (!existsSync(dir)) throw new Error(`${dir} is missing: apt-get install -y ${pkg}`);
}
for (const tool of ['pdftotext', 'pdfinfo', 'pandoc']) {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
  } catch {
    throw new Error(`${tool} is missing: apt-get install -y poppler-utils pandoc`);
  }
}

interface Doc {
  id: string;
  path: string;
  bytes: Buffer;
  type: string;
  pages: number;
}

const pdfs: Doc[] = ['R-intro.pdf', 'R-data.pdf', 'R-admin.pdf', 'R-lang.pdf']
  .slice(0, PDF_FILES)
  .map((f) => {
    const path = join(PDF_DIR, f);
    const info = execFileSync('pdfinfo', [path], { encoding: 'utf8' });
    return {
      id: f,
      path,
      bytes: readFileSync(path),
      type: 'application/pdf',
      pages: Number(/Pages:\s+(\d+)/.exec(info)![1]),
    };
  });
const htmlFiles = pick(
  readdirSync(HTML_DIR).filter(
    (f) => f.endsWith('.html') && statSync(join(HTML_DIR, f)).size > 4096,
  ),
  HTML_PAGES,
);
const htmls: Doc[] = htmlFiles.map((f) => ({
  id: f,
  path: join(HTML_DIR, f),
  bytes: readFileSync(join(HTML_DIR, f)),
  type: 'text/html',
  pages: 1,
}));
const tmp = mkdtempSync(join(tmpdir(), 'sluice-bench-files-'));
const docxs: Doc[] = htmlFiles.slice(0, DOCX_FILES).map((f) => {
  const out = join(tmp, f.replace(/\.html$/, '.docx'));
  execFileSync('pandoc', ['-f', 'html', '-t', 'docx', '-o', out, join(HTML_DIR, f)]);
  return {
    id: basename(out),
    path: out,
    bytes: readFileSync(out),
    type: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    pages: 1,
  };
});

const MB = 1024 * 1024;
const rows: (string | number)[][] = [];

// ---- parse stage alone
const parser = new FileParser({
  maxPages: 10_000,
  maxUnpackedBytes: 256 * MB,
  timeoutMs: 600_000,
  maxMemoryMb: 1024,
});
for (const [format, docs] of [
  ['PDF (R manuals)', pdfs],
  ['HTML (PostgreSQL manual)', htmls],
  ['DOCX (pandoc from the same HTML)', docxs],
] as const) {
  await parser.parse(docs[0]!.bytes, docs[0]!.type); // warm the worker and the parser
  const t0 = performance.now();
  for (const d of docs) await parser.parse(d.bytes, d.type);
  const s = (performance.now() - t0) / 1000;
  const pages = docs.reduce((n, d) => n + d.pages, 0);
  const bytes = docs.reduce((n, d) => n + d.bytes.length, 0);
  rows.push([
    format,
    'parse stage alone',
    docs.length,
    pages,
    (bytes / MB).toFixed(1),
    s.toFixed(1),
    (pages / s).toFixed(1),
    (bytes / MB / s).toFixed(2),
  ]);
}
await parser.close();

// ---- whole pipeline, then known-item search through the HTTP API
const { natsUrl, databaseUrl } = servers();
const db = await benchDatabase(databaseUrl);
const namespace = benchNamespace('files');
const config = loadConfig(process.env, {
  natsUrl: [natsUrl],
  databaseUrl: db.url,
  namespace,
  modelsDir: join(sharedDir, 'models'),
  models: ['sluice-static-384'],
  roles: ['api', 'parser', 'chunker', 'embedder', 'indexer', 'projector'],
  auth: 'off',
  defaultTenant: 'bench',
  httpPort: 0,
  parseMaxPages: 10_000,
});
const app = await startApp(config, createLogger({ level: 'warn' }), { handleSignals: false });
const address = (app.roles.find((r) => r.name === 'api') as unknown as { address: string }).address;
const api = async (method: string, path: string, body?: unknown) => {
  const r = await fetch(`${address}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return (await r.json()) as Record<string, unknown>;
};
const upload = async (collection: string, d: Doc) => {
  const r = await fetch(`${address}/v1/documents/${collection}/${encodeURIComponent(d.id)}`, {
    method: 'POST',
    headers: { 'content-type': d.type },
    body: d.bytes,
  });
  if (r.status !== 202) throw new Error(`${d.id}: ${r.status} ${await r.text()}`);
};
const indexed = async (collection: string, ids: string[], timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs;
  for (const id of ids) {
    for (;;) {
      const s = await api('GET', `/v1/documents/${collection}/${encodeURIComponent(id)}`);
      if (s.status === 'indexed') break;
      if (s.status === 'failed') throw new Error(`${id} failed: ${JSON.stringify(s)}`);
      if (Date.now() > deadline) throw new Error(`${id} not indexed in time (${String(s.status)})`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
};
for (const [format, collection, docs] of [
  ['PDF (R manuals)', 'pdf', pdfs],
  ['HTML (PostgreSQL manual)', 'html', htmls],
  ['DOCX (pandoc from the same HTML)', 'docx', docxs],
] as const) {
  const t0 = performance.now();
  for (const d of docs) await upload(collection, d);
  await indexed(
    collection,
    docs.map((d) => d.id),
    1_800_000,
  );
  const s = (performance.now() - t0) / 1000;
  const pages = docs.reduce((n, d) => n + d.pages, 0);
  const bytes = docs.reduce((n, d) => n + d.bytes.length, 0);
  rows.push([
    format,
    'whole pipeline',
    docs.length,
    pages,
    (bytes / MB).toFixed(1),
    s.toFixed(1),
    (pages / s).toFixed(1),
    (bytes / MB / s).toFixed(2),
  ]);
}

/** A sentence-like line of a text: 6 to 30 words, mostly letters. */
const sentenceOf = (text: string): string | undefined => {
  const lines = text
    .split(/\n/)
    .map((l) => l.replace(/\s+/g, ' ').trim())
    .filter((l) => {
      const words = l.split(' ');
      // Not the navigation bar every manual page repeats ("Prev Up … Home Next"): the
      // parser drops it as boilerplate, and it names no page anyway.
      return (
        words.length >= 6 &&
        words.length <= 30 &&
        /^[A-Za-z]/.test(l) &&
        !/\.{4,}/.test(l) &&
        !/^Prev\b.*\bNext$/.test(l)
      );
    });
  return lines.length === 0 ? undefined : lines[Math.floor(random() * lines.length)];
};

const known: { kind: string; ok: boolean; okPage: boolean }[] = [];
const search = async (collection: string, query: string) =>
  (await api('POST', '/v1/search', { query, collection, mode: 'keyword', k: 1 })).results as {
    documentId: string;
    pages: number[];
  }[];
let asked = 0;
while (known.filter((k) => k.kind === 'pdf').length < QUERIES && asked++ < QUERIES * 5) {
  const d = pdfs[Math.floor(random() * pdfs.length)]!;
  const p = 1 + Math.floor(random() * d.pages);
  const text = execFileSync('pdftotext', ['-f', String(p), '-l', String(p), d.path, '-'], {
    encoding: 'utf8',
  });
  const q = sentenceOf(text);
  if (!q) continue;
  const [top] = await search('pdf', q);
  known.push({
    kind: 'pdf',
    ok: top?.documentId === d.id,
    okPage: top?.documentId === d.id && top.pages.includes(p),
  });
  if (!(top?.documentId === d.id && top.pages.includes(p)))
    console.error(`miss pdf ${d.id} p${p}: "${q}" → ${top?.documentId} ${top?.pages.join(',')}`);
}
asked = 0;
while (known.filter((k) => k.kind === 'html').length < QUERIES && asked++ < QUERIES * 5) {
  const d = htmls[Math.floor(random() * htmls.length)]!;
  const text = execFileSync('pandoc', ['-f', 'html', '-t', 'plain', '--wrap=none', d.path], {
    encoding: 'utf8',
  });
  const q = sentenceOf(text);
  if (!q) continue;
  const [top] = await search('html', q);
  known.push({ kind: 'html', ok: top?.documentId === d.id, okPage: top?.documentId === d.id });
  if (top?.documentId !== d.id) console.error(`miss html ${d.id}: "${q}" → ${top?.documentId}`);
}

await app.stop();
const nc = await connect({ servers: natsUrl });
await deleteNamespace(nc, namespace);
await nc.close();
await db.drop();
rmSync(tmp, { recursive: true, force: true });

console.log(`\n${machine()}\n`);
console.log(table(['format', 'measured', 'files', 'pages', 'MB', 's', 'pages/s', 'MB/s'], rows));
const rate = (kind: string, f: (k: (typeof known)[number]) => boolean) => {
  const ks = known.filter((k) => k.kind === kind);
  return `${ks.filter(f).length}/${ks.length} = ${(ks.filter(f).length / ks.length).toFixed(3)}`;
};
console.log(
  `\n${table(
    ['queries from', 'top hit: right document', 'top hit: right document and page'],
    [
      [
        'R manuals (PDF, pdftotext -f p -l p)',
        rate('pdf', (k) => k.ok),
        rate('pdf', (k) => k.okPage),
      ],
      ['PostgreSQL manual (HTML, pandoc)', rate('html', (k) => k.ok), 'n/a (not paged)'],
    ],
  )}`,
);
process.exit(0);
