import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deepHtml, docxBomb, makeDocx, makePdf } from '../src/consumers/parser/test-files.js';
import { DeadLetters } from '../src/dead-letters/index.js';
import { PipelinePublisher } from '../src/runtime/publisher.js';
import { startTestApp, type TestApp } from './harness/app.js';
import { healthProbe } from './harness/health-probe.js';
import { until } from './harness/pipeline.js';

/**
 * Raw files through the whole pipeline over HTTP: a PDF, an HTML page and a DOCX end
 * searchable with their pages and headings; hostile files (malformed, truncated,
 * encrypted, 10,000 pages, a zip bomb, HTML 100,000 deep, a lying content-type, 0
 * bytes) each end parsed or in exactly one dead letter with a stable code, while the
 * process lives and /healthz answers.
 */
describe('raw files: parse stage end to end, hostile files', () => {
  let t: TestApp;
  const upload = (id: string, body: Uint8Array, contentType: string) =>
    fetch(`${t.address}/v1/documents/kb/${encodeURIComponent(id)}?tenant=acme`, {
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
    });
  }, 300_000);
  afterAll(async () => {
    await t?.stop();
  });

  const statusOf = async (id: string) =>
    (await t.api().get(`/v1/documents/kb/${encodeURIComponent(id)}`)).json as {
      status?: string;
      lastError?: { code?: string };
    };

  it('makes a PDF, an HTML page and a DOCX searchable with pages and headings', async () => {
    const pdf = makePdf(
      [
        { lines: ['# Installing', 'Preface text about nothing in particular.'] },
        { lines: [] },
        { lines: ['# Teapots', 'The porcelain teapot whistles on the third page.'] },
      ],
      { title: 'The Manual' },
    );
    const html = `<html><head><title>Guide</title><script>ignoredScriptWord()</script></head>
      <body><nav>navigationonlyword</nav><main><h1>Linux</h1><h2>Install</h2>
      <p>Download the tarball of quixotic software.</p></main></body></html>`;
    const docx = makeDocx([
      { heading: 1, text: 'Windows' },
      { paragraph: 'Run the zygomorphic installer twice.' },
    ]);
    expect((await upload('manual.pdf', pdf, 'application/pdf')).status).toBe(202);
    expect((await upload('guide.html', Buffer.from(html), 'text/html')).status).toBe(202);
    const res = await upload(
      'word.docx',
      docx,
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    );
    expect(res).toMatchObject({ status: 202, json: { status: 'accepted' } });
    for (const id of ['manual.pdf', 'guide.html', 'word.docx'])
      await until(async () => (await statusOf(id)).status === 'indexed', 300_000, `${id} indexed`);

    const search = async (query: string) =>
      (await t.api().post('/v1/search', { query, collection: 'kb', mode: 'keyword', k: 3 })).json
        .results as { documentId: string; pages: number[]; headings: string[]; title: string }[];
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
});
