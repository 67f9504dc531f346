import { jetstream } from '@nats-io/jetstream';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey } from '../src/api/keys.js';
import type { Config } from '../src/config/index.js';
import { Producer } from '../src/producers/index.js';
import type { DocumentWaiters } from '../src/projections/index.js';
import { Subjects, bodiesBucket } from '../src/topology/index.js';
import { startTestApp, type TestApp } from './harness/app.js';
import type { TestDatabase } from './harness/database.js';
import { runCli } from './harness/cli.js';
import { client } from './harness/http.js';

/**
 * Read-your-writes: a caller publishes, waits for its version, and then finds it in
 * search. The waits are woken by the documents projection's NOTIFY; many waiters cost
 * the database what one does.
 */
describe('read-your-writes', () => {
  let t: TestApp;
  let db: TestDatabase;
  let nc: NatsConnection;
  let config: Config;
  let address: string;
  let waiters: DocumentWaiters;
  let key: string;
  const api = () => client(address, key);
  const event = (documentId: string, text: string) => ({
    specversion: '1.0',
    id: `${documentId}-${Math.random()}`,
    source: 'urn:test',
    type: 'sluice.document.upserted.v1',
    data: { tenant: 'acme', collection: 'kb', documentId, text },
  });

  beforeAll(async () => {
    t = await startTestApp({
      roles: ['api', 'chunker', 'embedder', 'indexer', 'projector'],
      auth: 'keys',
    });
    ({ db, nc, config, address } = t);
    waiters = (t.app.roles.find((r) => r.name === 'api') as unknown as { waiters: DocumentWaiters })
      .waiters;
    key = (await createKey(db.sql, { tenant: 'acme' })).key;
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
  });

  it('publish → wait → the version is in the index and search finds it', async () => {
    const text = 'Quokkas are small marsupials that live on Rottnest Island near Perth.';
    const res = await api().post('/v1/events', event('quokka', text));
    expect(res.status).toBe(202);
    const version = res.json.results[0].version as number;
    const waited = await api().get(`/v1/documents/kb/quokka?minVersion=${version}&wait=20s`);
    expect(waited.status).toBe(200);
    expect(waited.json).toMatchObject({ version, status: 'indexed' });
    // The wait did not return early: every chunk of this version is in the index now.
    const [row] = await db.sql<{ chunks: number; count: number }[]>`
      SELECT d.chunk_count AS chunks, count(c.chunk_index)::int AS count
      FROM index_documents d JOIN index_chunks c USING (model_id, tenant, collection, document_id)
      WHERE d.document_id = 'quokka' AND d.version = ${version} AND c.version = ${version}
      GROUP BY d.chunk_count`;
    expect(row!.count).toBe(row!.chunks);
    const found = await api().post('/v1/search', {
      query: 'quokkas on Rottnest Island',
      collection: 'kb',
      mode: 'keyword',
    });
    expect(found.json.results.map((r: { documentId: string }) => r.documentId)).toContain('quokka');
  });

  it('without wait, answers what one look finds: never a 409 with status unknown', async () => {
    // The wait's timer used to win against the first read: 12 of 40 answered 409 "unknown".
    const answers = await Promise.all(
      Array.from({ length: 40 }, () => api().get('/v1/documents/kb/quokka?minVersion=1')),
    );
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    const ahead = await api().get('/v1/documents/kb/quokka?minVersion=999999');
    expect(ahead.status).toBe(409);
    expect(ahead.json.error.details.status).toBe('indexed');
  });

  it('every id the contract accepts round-trips through every document route', async () => {
    const ids = [
      'x'.repeat(1024),
      '😀'.repeat(512),
      'é'.repeat(1024),
      'a/b/../c%2F?q=1#frag %25 %',
      'مرحبا \u200f/ עברית',
      'zero\u200bwidth\u200d\ufeffjoined',
      '  spaced  ',
      '🏳️‍🌈 flag + family 👨‍👩‍👧',
    ];
    const versions = new Map<string, number>();
    for (const id of ids) {
      const res = await api().post('/v1/events', {
        ...event(id, `The id ${id.slice(0, 20)} holds text.`),
        id: `ids-${versions.size}-${Math.random()}`,
      });
      expect(res.status, JSON.stringify(res.json.error)).toBe(202);
      versions.set(id, res.json.results[0].version as number);
    }
    for (const id of ids) {
      const path = `/v1/documents/kb/${encodeURIComponent(id)}`;
      const waited = await api().get(`${path}?minVersion=${versions.get(id)}&wait=30s`);
      expect(waited.status, id.slice(0, 40)).toBe(200);
      expect(waited.json.id).toBe(id);
      const read = await api().get(path);
      expect(read.json).toMatchObject({ id, status: 'indexed' });
      expect((await api().get(`${path}/chunks`)).json.items.length).toBeGreaterThan(0);
      expect((await api().get(`${path}/events`)).json.items).toHaveLength(1);
    }
    const listed: string[] = [];
    for (let cursor: string | undefined, page = 0; page < 10; page++) {
      const res = await api().get(
        `/v1/documents?collection=kb&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      listed.push(...(res.json.items as { id: string }[]).map((d) => d.id));
      cursor = res.json.next as string | undefined;
      if (!cursor) break;
    }
    for (const id of ids) expect(listed).toContain(id);
  }, 120_000);

  it('searches only once the version is searchable (consistentWith)', async () => {
    const res = await api().post(
      '/v1/events',
      event('wombat', 'Wombats dig long burrows with their strong claws.'),
    );
    const version = res.json.results[0].version as number;
    const found = await api().post('/v1/search', {
      query: 'wombats burrows claws',
      collection: 'kb',
      mode: 'keyword',
      consistentWith: { documentId: 'wombat', version, timeoutMs: 20_000 },
    });
    expect(found.status).toBe(200);
    expect(found.json.results.map((r: { documentId: string }) => r.documentId)).toContain('wombat');
  });

  it('answers 409 NOT_YET_INDEXED when the wait ends first, after waiting', async () => {
    const t0 = Date.now();
    const res = await api().get('/v1/documents/kb/quokka?minVersion=999999&wait=700ms');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(650);
    expect(res.status).toBe(409);
    expect(res.json.error).toMatchObject({
      code: 'NOT_YET_INDEXED',
      details: { minVersion: 999999, status: 'indexed' },
    });
    const search = await api().post('/v1/search', {
      query: 'x',
      collection: 'kb',
      consistentWith: { documentId: 'nobody', version: 1, timeoutMs: 100 },
    });
    expect(search.status).toBe(409);
    expect(search.json.error.details.status).toBe('unknown');
  });

  it('answers 409 DOCUMENT_FAILED for a version that failed', async () => {
    // A claim-check reference to a body that is not there: the chunker dead-letters it.
    const h = headers();
    h.set('content-type', 'application/cloudevents+json');
    const producer = new Producer({ nc, namespace: config.namespace });
    const ack = await jetstream(nc).publish(
      new Subjects(config.namespace).event({
        tenant: 'acme',
        collection: 'kb',
        documentId: 'lost',
      }),
      JSON.stringify(
        producer.event('sluice.document.upserted.v1', {
          tenant: 'acme',
          collection: 'kb',
          documentId: 'lost',
          textRef: {
            bucket: bodiesBucket(config.namespace),
            name: 'acme/kb/lost/none',
            size: 1,
            sha256: '0'.repeat(64),
          },
        }),
      ),
      { headers: h },
    );
    const res = await api().get(`/v1/documents/kb/lost?minVersion=${ack.seq}&wait=20s`);
    expect(res.status).toBe(409);
    expect(res.json.error).toMatchObject({
      code: 'DOCUMENT_FAILED',
      details: { status: 'failed', lastError: { code: 'TEXT_REF_INVALID' } },
    });
  });

  it('checks its parameters', async () => {
    expect((await api().get('/v1/documents/kb/quokka?minVersion=0')).status).toBe(400);
    expect((await api().get('/v1/documents/kb/quokka?minVersion=1&wait=31s')).status).toBe(400);
    expect((await api().get('/v1/documents/kb/quokka?minVersion=1&wait=soon')).status).toBe(400);
    expect(
      (
        await api().post('/v1/search', {
          query: 'x',
          consistentWith: { documentId: 'a', version: 1 },
        })
      ).status,
    ).toBe(400);
  });

  it('many waiters cost the database what a few do', async () => {
    const rows: string[] = [];
    for (const n of [20, 200]) {
      const ids = Array.from({ length: n }, (_, i) => `many-${n}-${i}`);
      const ndjson = ids
        .map((id) => JSON.stringify(event(id, `Document ${id} about a topic of its own.`)))
        .join('\n');
      const before = waiters.queries;
      const res = await api().post('/v1/events', ndjson, {
        'content-type': 'application/x-ndjson',
      });
      expect(res.status).toBe(202);
      const versions = res.json.results.map((r: { version: number }) => r.version) as number[];
      const t0 = Date.now();
      const answers = await Promise.all(
        ids.map((id, i) => api().get(`/v1/documents/kb/${id}?minVersion=${versions[i]}&wait=30s`)),
      );
      expect(answers.map((a) => a.status)).toEqual(ids.map(() => 200));
      const queries = waiters.queries - before;
      rows.push(`| ${n} | ${queries} | ${Date.now() - t0} |`);
      // Re-reads follow the projection's commits, not the waiters: far fewer than one each.
      expect(queries).toBeLessThan(n / 2 + 20);
    }
    console.log(
      `\nRead-your-writes: queries the waiters made beyond each one's first look\n\n| waiters | re-read queries | ms until all answered |\n| ---: | ---: | ---: |\n${rows.join('\n')}\n`,
    );
  }, 120_000);

  it('sluice publish --wait returns once every document is searchable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-wait-'));
    try {
      writeFileSync(
        join(dir, 'koala.md'),
        '# Koalas\n\nKoalas sleep most of the day in eucalyptus trees.\n',
      );
      writeFileSync(join(dir, 'emu.txt'), 'Emus are large flightless birds that run fast.');
      const r = await runCli(
        [
          'publish',
          dir,
          '--tenant',
          'acme',
          '--collection',
          'kb',
          '--wait',
          '60',
          '--url',
          address,
          '--key',
          key,
        ],
        { NATS_URL: config.natsUrl.join(','), SLUICE_NAMESPACE: config.namespace },
      );
      expect(r.stderr).toContain('searchable: 2 of 2 document(s)');
      expect(r.code).toBe(0);
      const found = await api().post('/v1/search', {
        query: 'koalas eucalyptus',
        collection: 'kb',
        mode: 'keyword',
      });
      expect(found.json.results.length).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
