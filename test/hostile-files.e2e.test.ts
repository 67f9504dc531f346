import { rmSync } from 'node:fs';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DocumentFileV1, DocumentParsedV1 } from '../src/contracts/index.js';
import { FileParser } from '../src/consumers/parser/index.js';
import { deepHtml, docxBomb, makeDocx, makePdf } from '../src/consumers/parser/test-files.js';
import { DeadLetters } from '../src/dead-letters/index.js';
import { createLogger } from '../src/logger.js';
import { ClaimCheck, claimCheckPrefix } from '../src/producers/sdk/index.js';
import { Replayer } from '../src/replay/index.js';
import { filesBucket, streamName } from '../src/topology/index.js';
import { PipelinePublisher } from '../src/runtime/publisher.js';
import { startTestApp, type TestApp } from './harness/app.js';
import { runCli } from './harness/cli.js';
import { healthProbe } from './harness/health-probe.js';
import { until } from './harness/pipeline.js';
import { makeRealFolder } from './harness/real-files.js';

/**
 * Raw files through the whole pipeline over HTTP: a PDF, an HTML page and a DOCX end
 * searchable with their pages and headings; hostile files (malformed, truncated,
 * encrypted, 10,000 pages, a zip bomb, HTML 100,000 deep, a lying content-type, 0
 * bytes) each end parsed or in exactly one dead letter with a stable code, while the
 * process lives and /healthz answers. A browser's form upload (multipart) is the same
 * route with the same limits; `sluice publish` of a folder of real documents from
 * Debian's packages (an R manual, PostgreSQL's manual, a DOCX by pandoc) ends with
 * hits that name the page a sentence stands on and the heading above it.
 */
/** Above every file here (the 10,000-page PDF is 1.6 MB), so a larger one is cheap to send. */
const FILE_MAX_BYTES = 4 * 1024 * 1024;
const DOCX_TYPE = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

describe('raw files: parse stage end to end, hostile files', () => {
  let t: TestApp;
  const upload = (id: string, body: Uint8Array, contentType: string, query = '') =>
    fetch(`${t.address}/v1/documents/kb/${encodeURIComponent(id)}?tenant=acme${query}`, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body,
    }).then(async (r) => ({ status: r.status, json: (await r.json()) as Record<string, any> }));

  beforeAll(async () => {
    t = await startTestApp({
      roles: ['api', 'parser', 'chunker', 'embedder', 'indexer', 'projector'],
      auth: 'off',
      defaultTenant: 'acme',
      // Small limits keep the hostile files small and the test fast.
      parseMaxPages: 2_000,
      parseMaxMemory: 256 * 1024 * 1024,
      parseTimeout: 60_000,
      fileMaxBytes: FILE_MAX_BYTES,
    });
  }, 300_000);
  afterAll(async () => {
    await t?.stop();
  });

  const statusOf = async (id: string, collection = 'kb') =>
    (await t.api().get(`/v1/documents/${collection}/${encodeURIComponent(id)}`)).json as {
      status?: string;
      lastError?: { code?: string };
      title?: string | null;
      facts?: Record<string, unknown> | null;
    };
  const search = async (query: string, collection = 'kb') =>
    (await t.api().post('/v1/search', { query, collection, mode: 'keyword', k: 3 })).json
      .results as { documentId: string; pages: number[]; headings: string[]; title: string }[];

  it('makes a PDF, an HTML page and a DOCX searchable with pages and headings, and shows their facts', async () => {
    const pdf = makePdf(
      [
        { lines: ['# Installing', 'Preface text about nothing in particular.'] },
        { lines: [] },
        { lines: ['# Teapots', 'The porcelain teapot whistles on the third page.'] },
      ],
      { title: 'The Manual', author: 'Ada Lovelace' },
    );
    const html = `<html lang="en"><head><title>Guide</title><script>ignoredScriptWord()</script></head>
      <body><nav>navigationonlyword</nav><main><h1>Linux</h1><h2>Install</h2>
      <p>Download the tarball of quixotic software.</p></main></body></html>`;
    const docx = makeDocx(
      [{ heading: 1, text: 'Windows' }, { paragraph: 'Run the zygomorphic installer twice.' }],
      { title: 'Word Title', author: 'Cy' },
    );
    expect((await upload('manual.pdf', pdf, 'application/pdf')).status).toBe(202);
    expect((await upload('guide.html', Buffer.from(html), 'text/html')).status).toBe(202);
    // The title a user gives wins over the file's own.
    const res = await upload('word.docx', docx, DOCX_TYPE, '&title=Install%20Guide');
    expect(res).toMatchObject({ status: 202, json: { status: 'accepted' } });
    // A text document (no file, no parser) beside them: it has no facts.
    const text = {
      specversion: '1.0',
      id: 'plain-text-1',
      source: 'urn:test',
      type: 'sluice.document.upserted.v1',
      data: {
        tenant: 'acme',
        collection: 'kb',
        documentId: 'plain.md',
        text: '# Notes\n\nA plain markdown note about kettles.',
        mimeType: 'text/markdown',
      },
    };
    expect((await t.api().post('/v1/events', text)).status).toBe(202);
    for (const id of ['manual.pdf', 'guide.html', 'word.docx', 'plain.md'])
      await until(async () => (await statusOf(id)).status === 'indexed', 300_000, `${id} indexed`);

    // The document read model shows what each file says about itself.
    const docs = Object.fromEntries(
      await Promise.all(
        ['manual.pdf', 'guide.html', 'word.docx', 'plain.md'].map(
          async (id) => [id, await statusOf(id)] as const,
        ),
      ),
    );
    console.log(
      `document facts: ${JSON.stringify(Object.values(docs).map((d) => [d.title, d.facts]))}`,
    );
    expect(docs['manual.pdf']).toMatchObject({
      title: 'The Manual',
      facts: {
        title: 'The Manual',
        authors: ['Ada Lovelace'],
        language: 'en',
        created: '2024-01-02T03:04:05.000Z',
      },
    });
    expect(docs['guide.html']).toMatchObject({
      title: 'Guide',
      facts: { title: 'Guide', language: 'en' },
    });
    expect(docs['word.docx']).toMatchObject({
      title: 'Install Guide',
      facts: { title: 'Word Title', authors: ['Cy'], language: 'en-GB' },
    });
    expect(docs['plain.md']).toMatchObject({ title: null, facts: null });

    expect((await search('porcelain teapot whistles'))[0]).toMatchObject({
      documentId: 'manual.pdf',
      pages: [3],
      headings: ['Teapots'],
      title: 'The Manual',
    });
    expect((await search('quixotic tarball'))[0]).toMatchObject({
      documentId: 'guide.html',
      pages: [],
      headings: ['Linux', 'Install'],
      title: 'Guide',
    });
    expect((await search('zygomorphic installer'))[0]).toMatchObject({
      documentId: 'word.docx',
      headings: ['Windows'],
      title: 'Install Guide',
    });
    // Scripts and navigation never reach the index.
    expect(await search('navigationonlyword')).toEqual([]);
    expect(await search('ignoredScriptWord')).toEqual([]);
    const chunks = (await t.api().get('/v1/documents/kb/manual.pdf/chunks')).json.items as {
      pages: number[];
    }[];
    expect(chunks.flatMap((c) => c.pages)).toContain(3);
  }, 600_000);

  it('ends each hostile file parsed or in one dead letter with a stable code; /healthz answers', async () => {
    const hostile: [string, Uint8Array, string, string][] = [
      [
        'truncated.pdf',
        makePdf([{ lines: ['cut short'] }]).subarray(0, 80),
        'application/pdf',
        'PARSE_FAILED',
      ],
      [
        'malformed.pdf',
        Buffer.from('%PDF-1.7\nthis is not a PDF body at all'),
        'application/pdf',
        'PARSE_FAILED',
      ],
      [
        'encrypted.pdf',
        makePdf([{ lines: ['secret'] }], { encrypt: true }),
        'application/pdf',
        'FILE_ENCRYPTED',
      ],
      [
        'ten-thousand.pdf',
        makePdf([{ lines: ['page'] }], { repeat: 10_000 }),
        'application/pdf',
        'FILE_TOO_LARGE',
      ],
      ['bomb.docx', docxBomb(192 * 1024 * 1024), 'application/octet-stream', 'FILE_TOO_LARGE'],
      [
        'binary.txt',
        Buffer.from([0, 159, 146, 150, 0, 1, 2]),
        'text/plain',
        'MEDIA_TYPE_UNSUPPORTED',
      ],
    ];
    const parsedOk: [string, Uint8Array, string][] = [
      ['deep.html', Buffer.from(deepHtml(100_000)), 'text/html'],
      // A PDF that says it is HTML is read as the PDF it is.
      ['lying.html', makePdf([{ lines: ['a PDF in disguise'] }]), 'text/html'],
    ];
    // Made before probing: the server runs in this process, so making them would stall it.
    const probe = healthProbe(`${t.address}/healthz`);
    for (const [id, bytes, type] of [...hostile, ...parsedOk])
      expect((await upload(id, bytes, type)).status).toBe(202);
    // 0 bytes never reach the pipeline: refused at the boundary.
    expect((await upload('empty.pdf', Buffer.alloc(0), 'application/pdf')).json).toMatchObject({
      error: { code: 'FILE_EMPTY' },
    });

    for (const [id, , , code] of hostile)
      await until(
        async () => (await statusOf(id)).status === 'failed',
        180_000,
        `${id} failed (${code})`,
      );
    for (const [id] of parsedOk)
      await until(async () => (await statusOf(id)).status === 'indexed', 180_000, `${id} indexed`);

    const letters = new DeadLetters(
      t.nc,
      t.config.namespace,
      new PipelinePublisher({ nc: t.nc, source: 'urn:test' }),
    );
    const page = await letters.list({ limit: 1000 });
    const byDoc = new Map<string, string[]>();
    for (const l of page.items) {
      const id = l.document?.documentId ?? '?';
      byDoc.set(id, [...(byDoc.get(id) ?? []), `${l.consumer}:${l.code}`]);
    }
    for (const [id, , , code] of hostile) expect(byDoc.get(id), id).toEqual([`parser:${code}`]);
    for (const [id] of parsedOk) expect(byDoc.get(id), id).toBeUndefined();
    const times = await probe.stop();
    // The process lived and answered throughout (a bound far above a loaded machine's).
    expect(times.length).toBeGreaterThan(0);
    expect(Math.max(...times)).toBeLessThan(5_000);
  }, 420_000);

  it("takes a browser's form upload (multipart/form-data) with the raw body's limits and codes", async () => {
    const form = (parts: [string, string | Blob, string?][]) => {
      const f = new FormData();
      for (const [name, value, filename] of parts)
        if (typeof value === 'string') f.append(name, value);
        else f.append(name, value, filename);
      return fetch(
        `${t.address}/v1/documents/forms/${encodeURIComponent('form.docx')}?tenant=acme`,
        {
          method: 'POST',
          body: f,
        },
      ).then(async (r) => ({ status: r.status, json: (await r.json()) as Record<string, any> }));
    };
    const docx = makeDocx([
      { heading: 1, text: 'Forms' },
      { paragraph: 'A browser sends the quincunx through a form.' },
    ]);
    // A text field before the file, as a form has: the first file part is the document.
    const sent = await form([
      ['comment', 'a field before the file'],
      ['file', new Blob([docx], { type: DOCX_TYPE }), 'form.docx'],
    ]);
    expect(sent).toMatchObject({
      status: 202,
      json: {
        status: 'accepted',
        file: { size: docx.length, mediaType: DOCX_TYPE, filename: 'form.docx' },
      },
    });
    await until(
      async () => (await statusOf('form.docx', 'forms')).status === 'indexed',
      120_000,
      'form.docx indexed',
    );
    expect((await search('quincunx browser form', 'forms'))[0]).toMatchObject({
      documentId: 'form.docx',
      headings: ['Forms'],
    });

    // The same refusals as the raw body, before anything is stored.
    const tooLarge = new Uint8Array(FILE_MAX_BYTES + 1);
    expect(await form([['file', new Blob([tooLarge]), 'big.pdf']])).toMatchObject({
      status: 413,
      json: { error: { code: 'FILE_TOO_LARGE' } },
    });
    expect(await upload('big.pdf', tooLarge, 'application/pdf')).toMatchObject({
      status: 413,
      json: { error: { code: 'FILE_TOO_LARGE' } },
    });
    expect(await form([['file', new Blob([]), 'empty.pdf']])).toMatchObject({
      status: 400,
      json: { error: { code: 'FILE_EMPTY' } },
    });
    expect(await form([['comment', 'no file in this form']])).toMatchObject({
      status: 400,
      json: { error: { code: 'REQUEST_INVALID' } },
    });
    // One version only: the refused uploads stored nothing.
    expect(
      (await t.api().get('/v1/documents/forms/form.docx/events')).json.items as unknown[],
    ).toHaveLength(1);
  }, 180_000);

  it('sluice publish of a folder of real PDF, HTML and DOCX files: hits name the page and the heading', async () => {
    const { dir, files } = makeRealFolder();
    try {
      const r = await runCli(
        [
          'publish',
          dir,
          '--tenant',
          'acme',
          '--collection',
          'real',
          '--wait',
          '240',
          '--url',
          t.address,
          '--key',
          'unused-with-auth-off',
          '--json',
        ],
        { NATS_URL: t.config.natsUrl.join(','), SLUICE_NAMESPACE: t.config.namespace },
      );
      expect(r.code, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout) as Record<string, any>;
      expect(report).toMatchObject({
        total: files.length,
        accepted: files.length,
        rejected: 0,
        wait: { searchable: files.length, failed: [], pending: [] },
      });
      console.log(
        `real files searchable ${(report.wait.elapsedMs / 1000).toFixed(1)} s after publishing`,
      );
      for (const f of files) {
        const [hit] = await search(f.query, 'real');
        console.log(
          `${f.id}: top hit ${hit?.documentId} pages ${JSON.stringify(hit?.pages)} headings ${JSON.stringify(hit?.headings)}`,
        );
        expect(hit?.documentId, f.query).toBe(f.id);
        if (f.page !== undefined) expect(hit!.pages).toContain(f.page);
        if (f.heading !== undefined) expect(hit!.headings).toContain(f.heading);
        if (f.pagesWithText !== undefined) {
          // The page map covers the whole manual: every page with text, and no other.
          const chunks = (
            await t.api().get(`/v1/documents/real/${encodeURIComponent(f.id)}/chunks`)
          ).json.items as { pages: number[] }[];
          const covered = [...new Set(chunks.flatMap((c) => c.pages))].sort((a, b) => a - b);
          console.log(
            `${f.id}: ${chunks.length} chunks cover pages ${covered[0]}–${covered.at(-1)}`,
          );
          expect(covered).toEqual(f.pagesWithText);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);

  it('replays a collection that came from files to the same chunks, pages and headings; its events re-parse to the same text', async () => {
    const pdf = makePdf(
      [
        { lines: ['# Harbour', 'The lighthouse keeper logs every ferry.'] },
        { lines: ['# Tides', 'Spring tides flood the lower quay twice a month.'] },
      ],
      { title: 'Harbour Notes' },
    );
    const html = `<html><head><title>Quay</title></head><body><main><h1>Quay</h1>
      <h2>Mooring</h2><p>Bollards hold the barges through the night.</p></main></body></html>`;
    const sendTo = (id: string, body: Uint8Array, type: string) =>
      fetch(`${t.address}/v1/documents/replayed/${id}?tenant=acme`, {
        method: 'POST',
        headers: { 'content-type': type },
        body,
      }).then((r) => r.status);
    expect(await sendTo('harbour.pdf', pdf, 'application/pdf')).toBe(202);
    expect(await sendTo('quay.html', Buffer.from(html), 'text/html')).toBe(202);
    const chunksOf = async (id: string) =>
      (
        (await t.api().get(`/v1/documents/replayed/${id}/chunks`)).json.items as {
          text: string;
          pages: number[];
          headings: string[];
        }[]
      ).map((c) => ({ text: c.text, pages: c.pages, headings: c.headings }));
    for (const id of ['harbour.pdf', 'quay.html'])
      await until(
        async () => (await statusOf(id, 'replayed')).status === 'indexed',
        120_000,
        `${id} indexed`,
      );
    const before = { pdf: await chunksOf('harbour.pdf'), html: await chunksOf('quay.html') };
    expect(before.pdf.flatMap((c) => c.pages)).toEqual(expect.arrayContaining([1, 2]));
    expect(before.html.flatMap((c) => c.headings)).toContain('Mooring');

    // The index rebuilt by a replay keeps what the parser found.
    const replayer = new Replayer({
      nc: t.nc,
      sql: t.db.sql,
      config: t.config,
      logger: createLogger({ level: 'silent' }),
    });
    const result = await replayer.run('index');
    expect(result.events).toBeGreaterThan(0);
    expect({ pdf: await chunksOf('harbour.pdf'), html: await chunksOf('quay.html') }).toEqual(
      before,
    );

    // The documents read model rebuilt from the event log and the status stream keeps the
    // facts the parser found: they come back on the chunked statuses.
    const factsOf = async (id: string) => {
      const d = await statusOf(id, 'replayed');
      return { title: d.title, facts: d.facts };
    };
    const facts = { pdf: await factsOf('harbour.pdf'), html: await factsOf('quay.html') };
    expect(facts).toEqual({
      pdf: { title: 'Harbour Notes', facts: expect.objectContaining({ title: 'Harbour Notes' }) },
      html: { title: 'Quay', facts: { title: 'Quay' } },
    });
    expect((await replayer.run('documents')).events).toBeGreaterThan(0);
    expect({ pdf: await factsOf('harbour.pdf'), html: await factsOf('quay.html') }).toEqual(facts);

    // The event log is enough to parse again: each file event's reference finds the same
    // bytes in the files bucket (under the tenant's prefix, checked against its SHA-256),
    // and they parse to the text and page map the chunker was given.
    const jsm = await jetstreamManager(t.nc);
    const messages = async (stream: 'events' | 'parsed') => {
      const name = streamName(t.config.namespace, stream);
      const { first_seq, last_seq } = (await jsm.streams.info(name)).state;
      const out: { seq: number; data: Record<string, unknown> }[] = [];
      for (let seq = first_seq; seq <= last_seq; seq++) {
        const m = await jsm.streams.getMessage(name, { seq }).catch(() => null);
        if (m) out.push({ seq, data: m.json<Record<string, unknown>>() });
      }
      return out.filter((m) => m.data.collection === 'replayed');
    };
    const files = (await messages('events')).filter((m) => m.data.file !== undefined);
    const parsed = (await messages('parsed')).map((m) => m.data as unknown as DocumentParsedV1);
    expect(files).toHaveLength(2);
    const store = new ClaimCheck(t.nc, filesBucket(t.config.namespace), 'FILE_REF_INVALID');
    const parser = new FileParser({
      maxPages: 2_000,
      maxUnpackedBytes: 128 * 1024 * 1024,
      timeoutMs: 60_000,
      maxMemoryMb: 256,
    });
    try {
      for (const { seq, data } of files) {
        const event = data as unknown as DocumentFileV1;
        const bytes = await store.getBytes(event.file, { prefix: claimCheckPrefix(event) });
        const again = await parser.parse(bytes, event.file.mediaType);
        const live = parsed.find((p) => p.version === seq);
        expect(live, event.documentId).toBeDefined();
        expect(again.text).toBe(live!.text);
        expect(again.pages).toEqual(live!.pages);
      }
    } finally {
      await parser.close();
    }
  }, 240_000);
});
