import { describe, expect, it } from 'vitest';
import type { DocumentStatusV1 } from '../../contracts/index.js';
import { applyDoc, emptyDoc, type DocInput, type DocState } from './fold.js';

const at = (s: number): string => new Date(Date.UTC(2026, 10, 22, 9, 0, s)).toISOString();
const up = (
  version: number,
  extra: Partial<Extract<DocInput, { kind: 'upserted' }>> = {},
): DocInput => ({
  kind: 'upserted',
  version,
  at: at(version),
  title: `v${version}`,
  uri: null,
  mimeType: 'text/plain',
  metadata: {},
  contentHash: `h${version}`,
  bytes: 100 * version,
  ...extra,
});
const st = (
  version: number,
  stage: DocumentStatusV1['stage'],
  extra: Partial<DocumentStatusV1> = {},
): DocInput => ({
  kind: 'status',
  status: {
    tenant: 't',
    collection: 'c',
    documentId: 'd',
    version,
    stage,
    at: at(version + 1),
    ...extra,
  },
});
const fold = (inputs: DocInput[], start: DocState = emptyDoc('t', 'c', 'd')): DocState =>
  inputs.reduce(applyDoc, start);

const lifecycle: DocInput[] = [
  up(5),
  st(5, 'chunked', { parts: 2, chunkCount: 7 }),
  st(5, 'embedded', { part: 0, parts: 2, model: 'm@1' }),
  st(5, 'embedded', { part: 1, parts: 2, model: 'm@1' }),
  st(5, 'indexed', { part: 1, parts: 2, model: 'm@1' }),
  st(5, 'indexed', { part: 0, parts: 2, model: 'm@1' }),
];

describe('documents projection fold', () => {
  it('walks a version through its stages', () => {
    const s = fold(lifecycle);
    expect(s).toMatchObject({
      version: 5,
      status: 'indexed',
      title: 'v5',
      chunkCount: 7,
      parts: 2,
      modelId: 'm@1',
      bytes: 500,
    });
    expect(s.embeddedParts).toEqual([0, 1]);
    expect(fold(lifecycle.slice(0, 4)).status).toBe('embedded');
    expect(fold(lifecycle.slice(0, 5)).status).toBe('embedded'); // one of two parts indexed
  });

  it('gives the same row whatever the order of the inputs', () => {
    const expected = fold(lifecycle);
    const orders = [
      [...lifecycle].reverse(),
      [lifecycle[3]!, lifecycle[0]!, lifecycle[5]!, lifecycle[1]!, lifecycle[4]!, lifecycle[2]!],
    ];
    for (const o of orders) {
      const s = fold(o);
      expect({ ...s, embeddedAt: null, indexedAt: null, chunkedAt: null }).toEqual({
        ...expected,
        embeddedAt: null,
        indexedAt: null,
        chunkedAt: null,
      });
      expect(s.status).toBe('indexed');
    }
  });

  it('changes nothing when every input is applied twice', () => {
    const twice = lifecycle.flatMap((i) => [i, i]);
    expect(fold(twice)).toEqual(fold(lifecycle));
  });

  it('keeps earlier stages and the error when a later stage fails', () => {
    const s = fold([
      up(5),
      st(5, 'chunked', { parts: 1, chunkCount: 2 }),
      st(5, 'failed', {
        error: { code: 'CHUNK_TOO_LONG', message: 'too long', consumer: 'embedder-m' },
      }),
    ]);
    expect(s.status).toBe('failed');
    expect(s.chunkedAt).not.toBeNull();
    expect(s.lastError).toMatchObject({ code: 'CHUNK_TOO_LONG', consumer: 'embedder-m' });
  });

  it('starts a newer version afresh and ignores anything older', () => {
    const s = fold([...lifecycle, up(9), st(5, 'indexed', { part: 0, parts: 2 }), up(3)]);
    expect(s).toMatchObject({
      version: 9,
      status: 'received',
      title: 'v9',
      chunkCount: null,
      indexedParts: [],
    });
  });

  it('deletes, and a late older update cannot bring the document back', () => {
    const s = fold([
      ...lifecycle,
      { kind: 'deleted', version: 8, at: at(8) },
      up(6),
      st(6, 'indexed', { part: 0, parts: 1 }),
    ]);
    expect(s).toMatchObject({ version: 8, status: 'deleted', bytes: 0 });
    expect(fold([...lifecycle, { kind: 'deleted', version: 8, at: at(8) }, up(10)]).status).toBe(
      'received',
    );
  });

  it('takes attributes from the upsert even when its status arrived first', () => {
    const s = fold([st(7, 'chunked', { parts: 1, chunkCount: 1 }), up(7)]);
    expect(s).toMatchObject({ version: 7, status: 'chunked', title: 'v7', receivedVersion: 7 });
  });
});

describe('documents fold: order of the two streams', () => {
  it('gives a deleted document the same row whether its older stages came before the deletion or after', () => {
    const del: DocInput = { kind: 'deleted', version: 8, at: at(8) };
    expect(fold([...lifecycle, del])).toEqual(fold([lifecycle[0]!, del, ...lifecycle.slice(1)]));
  });

  it('gives a deleted document the same row whether its upsert came before the deletion or after', () => {
    const del: DocInput = { kind: 'deleted', version: 8, at: at(8) };
    const inOrder = fold([...lifecycle, del]);
    expect(fold([del, ...lifecycle])).toEqual(inOrder);
    expect(fold([lifecycle[2]!, del, lifecycle[0]!])).toEqual(inOrder);
    expect(inOrder).toMatchObject({ status: 'deleted', title: null, receivedAt: at(8), bytes: 0 });
  });

  const failure = st(5, 'failed', {
    error: { code: 'DB_UNAVAILABLE', message: 'down', consumer: 'indexer' },
  });

  it.each([
    ['failed, then redriven and indexed', [...lifecycle.slice(0, 5), failure, lifecycle[5]!]],
    ['indexed, then a late failure report of the same version', [...lifecycle, failure]],
    ['the failure first of all', [failure, ...lifecycle]],
  ])('%s: indexed, with the failure kept as history', (_what, inputs) => {
    const s = fold(inputs);
    expect(s.status).toBe('indexed');
    expect(s.lastError).toMatchObject({ code: 'DB_UNAVAILABLE' });
  });

  it('stays failed while the redriven stage has not finished every part', () => {
    expect(fold([...lifecycle.slice(0, 5), failure]).status).toBe('failed');
  });

  it('counts parts per model: two models with a part each have not indexed it', () => {
    const two = [
      up(5),
      st(5, 'chunked', { parts: 2, chunkCount: 7 }),
      st(5, 'embedded', { part: 0, parts: 2, model: 'a@1' }),
      st(5, 'embedded', { part: 1, parts: 2, model: 'b@1' }),
      st(5, 'indexed', { part: 0, parts: 2, model: 'a@1' }),
      st(5, 'indexed', { part: 1, parts: 2, model: 'b@1' }),
    ];
    const mixed = fold(two);
    expect(mixed.status).toBe('chunked');
    expect(mixed.indexedAt).toBeNull();
    const done = fold([
      ...two,
      st(5, 'embedded', { part: 1, parts: 2, model: 'a@1' }),
      st(5, 'indexed', { part: 1, parts: 2, model: 'a@1' }),
    ]);
    expect(done.status).toBe('indexed');
    expect(done.modelId).toBe('a@1');
    expect(done.indexedParts).toEqual([0, 1]);
    expect(done.progress).toEqual({ 'a@1': { e: [0, 1], i: [0, 1] }, 'b@1': { e: [1], i: [1] } });
  });

  it("gives the same row whatever the order of two models' reports", () => {
    const reports = [
      st(5, 'embedded', { part: 0, parts: 1, model: 'a@1' }),
      st(5, 'indexed', { part: 0, parts: 1, model: 'a@1' }),
      st(5, 'embedded', { part: 0, parts: 1, model: 'b@1' }),
      st(5, 'indexed', { part: 0, parts: 1, model: 'b@1' }),
    ];
    const forward = fold([up(5), ...reports]);
    const backward = fold([up(5), ...[...reports].reverse()]);
    expect(forward.status).toBe('indexed');
    expect({ ...backward, indexedAt: null, embeddedAt: null }).toEqual({
      ...forward,
      indexedAt: null,
      embeddedAt: null,
    });
  });
});

describe('documents fold: facts of a parsed file', () => {
  const facts = { title: 'The Manual', authors: ['Ada'], language: 'en', created: at(1) };
  const file = [up(5, { title: null, mimeType: 'application/pdf' })];
  const chunked = st(5, 'chunked', { parts: 1, chunkCount: 3, facts });

  it("keeps the chunked status's facts for its version, whichever stream came first", () => {
    expect(fold([...file, chunked]).facts).toEqual(facts);
    expect(fold([chunked, ...file])).toEqual(fold([...file, chunked]));
    // The title the event gave stays the event's: facts are kept beside it.
    expect(fold([up(5, { title: 'Given' }), chunked])).toMatchObject({ title: 'Given', facts });
  });

  it('has none for a text document (a chunked status without facts is valid)', () => {
    expect(fold(lifecycle).facts).toBeNull();
  });

  it('drops them with a newer version, and ignores those of an older one', () => {
    expect(fold([...file, chunked, up(6), st(6, 'chunked', { parts: 1 })]).facts).toBeNull();
    expect(fold([up(6), st(6, 'chunked', { parts: 1 }), chunked]).facts).toBeNull();
    expect(fold([...file, chunked, { kind: 'deleted', version: 8, at: at(8) }]).facts).toBeNull();
  });

  it('applying the same status twice changes nothing', () => {
    const once = fold([...file, chunked]);
    expect(applyDoc(once, chunked)).toEqual(once);
  });
});
