import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { emittedSchemas } from '../../scripts/schemas.js';
import { isSluiceError } from '../errors/index.js';
import { packageRoot } from '../paths.js';
import {
  eventTypes,
  isPipelineEventType,
  pipelineEventTypes,
  schemaFileOf,
  type AnyEventType,
} from './event-types.js';
import { validateEvent, validatePipelineEvent } from './validate.js';

const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;
const schemasDir = join(packageRoot, 'schemas');
const fixturesDir = join(schemasDir, 'fixtures');

function fixtures(kind: 'valid' | 'invalid'): { file: string; json: unknown }[] {
  const out: { file: string; json: unknown }[] = [];
  for (const dir of readdirSync(fixturesDir)) {
    for (const f of readdirSync(join(fixturesDir, dir, kind))) {
      out.push({
        file: `${dir}/${kind}/${f}`,
        json: JSON.parse(readFileSync(join(fixturesDir, dir, kind, f), 'utf8')),
      });
    }
  }
  return out;
}

/** A validator built only from the emitted JSON files, as another language would use them. */
function fromFiles(): (event: Record<string, unknown>) => boolean {
  const ajv = new Ajv2020({ strict: false });
  addFormats(ajv);
  const attrs = ajv.compile(
    JSON.parse(readFileSync(join(schemasDir, 'cloudevent-attributes.v1.schema.json'), 'utf8')),
  );
  const data = new Map(
    (Object.keys({ ...eventTypes, ...pipelineEventTypes }) as AnyEventType[]).map((t) => [
      t as string,
      ajv.compile(JSON.parse(readFileSync(join(schemasDir, schemaFileOf(t)), 'utf8'))),
    ]),
  );
  return (event) => {
    const check = data.get(event.type as string);
    return attrs(event) && check !== undefined && 'data' in event && check(event.data);
  };
}

/** Validates with the validator for the event's kind: ingest types or pipeline types. */
function validateAny(event: unknown): unknown {
  const type = (event as { type?: unknown } | null)?.type;
  return isPipelineEventType(type) ? validatePipelineEvent(event, type) : validateEvent(event);
}

describe('event contracts', () => {
  it('schemas/*.schema.json are what src/contracts emits (npm run schemas)', () => {
    for (const [path, text] of emittedSchemas())
      expect(readFileSync(path, 'utf8'), path).toBe(text);
  });

  it('has valid and invalid fixtures for every event type', () => {
    const dirs = readdirSync(fixturesDir);
    for (const spec of Object.values({ ...eventTypes, ...pipelineEventTypes })) {
      const dir = `${spec.name}.v${spec.version}`;
      expect(dirs).toContain(dir);
      expect(readdirSync(join(fixturesDir, dir, 'valid')).length).toBeGreaterThan(0);
      expect(readdirSync(join(fixturesDir, dir, 'invalid')).length).toBeGreaterThan(0);
    }
  });

  const byFiles = fromFiles();

  it.each(fixtures('valid'))('accepts $file', ({ json }) => {
    expect(() => validateAny(json)).not.toThrow();
    expect(byFiles(json as Record<string, unknown>)).toBe(true);
  });

  it.each(fixtures('invalid'))('rejects $file with its code and pointer', ({ json }) => {
    const { expect: want, event } = json as {
      expect: { code: string; pointer: string };
      event: Record<string, unknown>;
    };
    let err: unknown;
    try {
      validateAny(event);
    } catch (e) {
      err = e;
    }
    expect(isSluiceError(err), 'should throw a SluiceError').toBe(true);
    const e = err as { code: string; details: { pointer: string } };
    expect(e.code).toBe(want.code);
    expect(e.details.pointer).toBe(want.pointer);
    expect(byFiles(event)).toBe(false);
  });

  it('never lets ingest accept a pipeline event', () => {
    const chunks = JSON.parse(
      readFileSync(join(fixturesDir, 'chunks.v1/valid/one-chunk.json'), 'utf8'),
    ) as unknown;
    expect(() => validateEvent(chunks)).toThrow(/unknown event type 'sluice.chunks.v1'/);
    expect(() => validatePipelineEvent(chunks, 'sluice.vectors.v1')).toThrow(/unknown event type/);
  });

  it('rejects values that are not objects', () => {
    for (const v of [null, 42, 'x', [1]])
      expect(() => validateEvent(v)).toThrow(/must be a JSON object/);
  });
});

describe('what the stores cannot hold is refused at the boundary', () => {
  const base = {
    specversion: '1.0',
    id: 'e-1',
    source: 'urn:test',
    type: 'sluice.document.upserted.v1',
    data: { tenant: 'acme', collection: 'docs', documentId: 'd', text: 'hello' },
  };
  const withData = (data: Record<string, unknown>) => ({
    ...base,
    data: { ...base.data, ...data },
  });
  const NUL = 'NUL';
  const SURROGATE = 'unpaired surrogate';
  it.each([
    ['NUL in the text', withData({ text: 'pdf\u0000text' }), '/data/text', NUL],
    ['NUL in the title', withData({ title: 'a\u0000' }), '/data/title', NUL],
    ['NUL in the document id', withData({ documentId: 'd\u0000' }), '/data/documentId', NUL],
    ['NUL in a metadata value', withData({ metadata: { k: 'v\u0000' } }), '/data/metadata/k', NUL],
    [
      'NUL in a metadata key',
      withData({ metadata: { 'k\u0000': 1 } }),
      '/data/metadata/k\\u0000',
      NUL,
    ],
    [
      'NUL in a metadata array',
      withData({ metadata: { k: ['ok', '\u0000'] } }),
      '/data/metadata/k/1',
      NUL,
    ],
    ['NUL in the event id', { ...base, id: 'e\u0000' }, '/id', NUL],
    ['a lone high surrogate', withData({ text: 'a\ud800b' }), '/data/text', SURROGATE],
    ['a lone low surrogate', withData({ title: '\udc00' }), '/data/title', SURROGATE],
    ['year 0000', { ...base, time: '0000-01-01T00:00:00Z' }, '/time', 'year 0001 to 9999'],
    [
      '29 February of a common year',
      { ...base, time: '2023-02-29T00:00:00Z' },
      '/time',
      'date-time',
    ],
  ])('%s: EVENT_INVALID at %s', (_name, event, pointer, message) => {
    let error: unknown;
    try {
      validateEvent(event);
    } catch (err) {
      error = err;
    }
    expect(isSluiceError(error) && error.code).toBe('EVENT_INVALID');
    const details = (error as { details: { pointer: string } }).details;
    expect(details.pointer).toBe(pointer);
    expect((error as Error).message).toContain(message);
    expect((error as Error).message).not.toContain('\u0000');
  });

  it.each([
    ['emoji (a surrogate pair)', withData({ text: 'ok 😀 🦠' })],
    ['CJK, RTL and zero-width characters', withData({ text: '病毒 فيروس a\u200bb\u200f' })],
    ['control characters other than NUL', withData({ text: 'tab\tbell\u0007' })],
    ['a leap day', { ...base, time: '2024-02-29T23:59:59.999Z' }],
    ['year 9999', { ...base, time: '9999-12-31T00:00:00+01:00' }],
  ])('accepts %s', (_name, event) => {
    expect(() => validateEvent(event)).not.toThrow();
  });
});
