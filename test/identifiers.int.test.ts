import { headers } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey } from '../src/api/keys.js';
import { printable } from '../src/cli/printable.js';
import { bodiesBucket, Subjects } from '../src/topology/index.js';
import { startTestApp, type TestApp } from './harness/app.js';
import { runCli } from './harness/cli.js';
import { client } from './harness/http.js';

/**
 * Every identifier the contract admits goes through every route that carries one and
 * comes back as it went in: document ids of up to 1,024 characters of any Unicode (the
 * longest here is 1,024 four-byte characters: 12,288 characters once URL-encoded) and
 * the longest collection name. One app, one table of ids, each step for all of them.
 */
const ids: Record<string, string> = {
  slashes: 'a/b/../c/',
  percent: '100% %41%2F %zz',
  query: 'q?x=1&y=2',
  fragment: 'frag#ment',
  'dot inside': '.../a/./b',
  'lone dots': '%2E%2E',
  rtl: '\u202eשלום עולם\u202c مرحبا',
  'zero-width': '\u200b\u200c\u200d\ufeffzw',
  emoji: '🦘👩‍👩‍👧',
  spaces: ' spaced  out ',
  controls: 'tab\tand\nnewline',
  backslash: 'C:\\dir\\file.txt',
  '1024 ascii': 'x'.repeat(1024),
  '1024 emoji': '🦘'.repeat(1024),
};
/** The longest collection name: 63 characters of the token alphabet. */
const COLLECTION = `0${'a_-'.repeat(20)}zz`;
const FILES = 'files';
const LETTERS = 'letters';
const TENANT = 'acme';
const cases = Object.entries(ids);
/** A word of its own per id, for keyword search (letters only: the stemmer keeps it). */
const word = (i: number): string => `zqx${String.fromCharCode(97 + i)}${'q'.repeat(i % 5)}word`;
const path = (collection: string, id: string): string =>
  `/v1/documents/${encodeURIComponent(collection)}/${encodeURIComponent(id)}`;

describe('identifiers round-trip through every route', () => {
  let t: TestApp;
  let api: ReturnType<typeof client>;
  let admin: ReturnType<typeof client>;
  const versions = new Map<string, number>();

  beforeAll(async () => {
    expect(COLLECTION).toHaveLength(63);
    t = await startTestApp({
      roles: ['api', 'chunker', 'embedder', 'indexer', 'projector', 'parser'],
      auth: 'keys',
    });
    api = client(t.address, (await createKey(t.db.sql, { tenant: TENANT })).key);
    admin = client(t.address, (await createKey(t.db.sql, { tenant: TENANT, admin: true })).key);
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
  });

  /** The document at `version` or later: waits (30 s at a time) while it is on its way. */
  const visible = async (collection: string, id: string, version: number, name: string) => {
    for (;;) {
      const got = await api.get(`${path(collection, id)}?minVersion=${version}&wait=30s`);
      if (got.status === 409 && got.json.error.code === 'NOT_YET_INDEXED') continue;
      expect(got.status, `${name}: ${JSON.stringify(got.json)}`).toBe(200);
      expect(got.json.id, name).toBe(id);
      expect(got.json.collection, name).toBe(collection);
      return got.json;
    }
  };

  const event = (id: string, i: number, type: 'upserted' | 'deleted') => ({
    specversion: '1.0',
    id: `${type}-${i}`,
    source: 'urn:test:identifiers',
    type: `sluice.document.${type}.v1`,
    data: {
      tenant: TENANT,
      collection: COLLECTION,
      documentId: id,
      ...(type === 'upserted' ? { text: `A note about ${word(i)} and nothing else.` } : {}),
    },
  });

  it('ingests each id and reads it back, waiting for its version', async () => {
    const res = await api.post(
      '/v1/events',
      cases.map(([, id], i) => event(id, i, 'upserted')),
    );
    expect(res.status, JSON.stringify(res.json)).toBe(202);
    for (const [i, [name]] of cases.entries()) versions.set(name, res.json.results[i].version);
    for (const [name, id] of cases) {
      await visible(COLLECTION, id, versions.get(name)!, name);
      const chunks = await api.get(`${path(COLLECTION, id)}/chunks`);
      expect(chunks.status, name).toBe(200);
      expect(chunks.json.items.length, name).toBeGreaterThan(0);
      const events = await api.get(`${path(COLLECTION, id)}/events`);
      expect(events.status, name).toBe(200);
      expect(events.json.items.length, name).toBe(1);
    }
  }, 120_000);

  it("refuses '.' and '..' at the boundary, which no URL can address", async () => {
    for (const id of ['.', '..']) {
      const res = await api.post('/v1/events', [event(id, 99, 'upserted')]);
      expect(res.status).toBe(400);
      expect(res.json.results[0].error).toMatchObject({
        code: 'EVENT_INVALID',
        pointer: '/data/documentId',
        message: expect.stringContaining("must not be '.' or '..'"),
      });
    }
  });

  it('finds each id in search hits and in the document list', async () => {
    for (const [i, [name, id]] of cases.entries()) {
      const res = await api.post('/v1/search', {
        query: word(i),
        collection: COLLECTION,
        mode: 'keyword',
        k: 3,
      });
      expect(res.status, name).toBe(200);
      expect(
        res.json.results.map((h: { documentId: string }) => h.documentId),
        name,
      ).toEqual([id]);
    }
    const list = await api.get(`/v1/documents?collection=${COLLECTION}&limit=100`);
    expect(list.status).toBe(200);
    expect(new Set(list.json.items.map((d: { id: string }) => d.id))).toEqual(
      new Set(Object.values(ids)),
    );
  }, 60_000);

  it('uploads a raw file under each id', async () => {
    const uploads = [];
    for (const [i, [name, id]] of cases.entries()) {
      const res = await api.post(path(FILES, id), `# ${word(i)}\n\nA file for ${name}.\n`, {
        'content-type': 'text/markdown',
      });
      expect(res.status, `${name}: ${JSON.stringify(res.json)}`).toBe(202);
      uploads.push(visible(FILES, id, res.json.version, name));
    }
    await Promise.all(uploads);
  }, 120_000);

  it('deletes each id', async () => {
    const res = await api.post(
      '/v1/events',
      cases.map(([, id], i) => event(id, i, 'deleted')),
    );
    expect(res.status, JSON.stringify(res.json)).toBe(202);
    for (const [i, [name, id]] of cases.entries()) {
      const got = await visible(COLLECTION, id, res.json.results[i].version, name);
      expect(got.status, name).toBe('deleted');
    }
  }, 120_000);

  it('dead-letters each id and shows it in the list and the letter', async () => {
    // Events whose claim-checked body is missing: the chunker dead-letters each once.
    const js = jetstream(t.nc);
    const subjects = new Subjects(t.config.namespace);
    for (const [i, [, id]] of cases.entries()) {
      const ref = { tenant: TENANT, collection: LETTERS, documentId: id };
      const h = headers();
      for (const [k, v] of Object.entries({
        'ce-specversion': '1.0',
        'ce-id': `letter-${i}`,
        'ce-source': 'urn:test:identifiers',
        'ce-type': 'sluice.document.upserted.v1',
        'content-type': 'application/json',
      }))
        h.set(k, v);
      await js.publish(
        subjects.event(ref),
        JSON.stringify({
          ...ref,
          textRef: {
            bucket: bodiesBucket(t.config.namespace),
            name: `missing-${i}`,
            size: 1,
            sha256: '0'.repeat(64),
          },
        }),
        { headers: h },
      );
    }
    type Letter = { id: number; document?: { collection: string; documentId: string } };
    let letters: Letter[] = [];
    await expect
      .poll(
        async () => {
          const res = await admin.get('/v1/dead-letters?limit=100');
          letters = (res.json.items as Letter[]).filter((l) => l.document?.collection === LETTERS);
          return letters.length;
        },
        { timeout: 60_000, interval: 500 },
      )
      .toBe(cases.length);
    expect(new Set(letters.map((l) => l.document!.documentId))).toEqual(
      new Set(Object.values(ids)),
    );
    for (const l of letters) {
      const one = await admin.get(`/v1/dead-letters/${l.id}`);
      expect(one.status).toBe(200);
      expect(one.json.document.documentId).toBe(l.document!.documentId);
    }

    // The CLI's table (its --json is the API's list): one line per letter, the id quoted
    // and escaped where it is not plain, so a newline or a bidi override cannot forge rows.
    const env = {
      NATS_URL: t.config.natsUrl.join(','),
      DATABASE_URL: t.db.url,
      SLUICE_NAMESPACE: t.config.namespace,
    };
    const table = await runCli(['dlq', 'ls', '--limit', '100'], env);
    expect(table.code, table.stderr).toBe(0);
    const rows = table.stdout.split('\n').filter((line) => line.includes(`/${LETTERS}/`));
    expect(rows).toHaveLength(cases.length);
    for (const id of Object.values(ids))
      expect(rows.filter((r) => r.includes(`/${LETTERS}/${printable(id, 64)}`))).toHaveLength(1);
  }, 90_000);
});
