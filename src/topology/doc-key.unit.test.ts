import { describe, expect, it } from 'vitest';
import { docKey, documentIdOf } from './doc-key.js';
import { Subjects } from './subjects.js';

const SUBJECT_TOKEN = /^[^\s.*>]+$/;

describe('docKey', () => {
  it('keeps safe characters readable and escapes the rest', () => {
    expect(docKey('report-2026_v2')).toBe('report-2026_v2');
    expect(docKey('guides/onboarding.md')).toBe('guides~2Fonboarding~2Emd');
    expect(docKey('a b')).toBe('a~20b');
    expect(docKey('~')).toBe('~7E');
    expect(docKey('é')).toBe('~C3~A9');
  });

  it('is a valid subject token and reversible for every kind of id', () => {
    const ids = [
      'x',
      'a.b.c',
      '*',
      '>',
      'tab\there',
      'Résumé 📈',
      '~7E',
      '~~',
      '..',
      ' ',
      'A'.repeat(200),
    ];
    const keys = new Set<string>();
    for (const id of ids) {
      const key = docKey(id);
      expect(key).toMatch(SUBJECT_TOKEN);
      keys.add(key);
      if (!key.startsWith('~~')) expect(documentIdOf(key)).toBe(id);
    }
    expect(keys.size).toBe(ids.length);
  });

  it('hashes ids whose key would be long, keeping it short and distinct', () => {
    const a = docKey('/'.repeat(300));
    const b = docKey(`${'/'.repeat(299)}x`);
    expect(a).toMatch(/^~~[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(documentIdOf(a)).toBeUndefined();
  });
});

describe('Subjects', () => {
  const s = new Subjects('sluice');
  const ref = { tenant: 'acme', collection: 'docs', documentId: 'a.md' };
  it('builds per-document subjects and parses them back', () => {
    expect(s.event(ref)).toBe('sluice.events.acme.docs.a~2Emd');
    expect(s.vectors('minilm', ref)).toBe('sluice.vectors.minilm.acme.docs.a~2Emd');
    expect(s.parse(s.vectors('minilm', ref))).toEqual({
      kind: 'vectors',
      tenant: 'acme',
      collection: 'docs',
      key: 'a~2Emd',
    });
    expect(s.parse(s.status(ref))).toEqual({
      kind: 'status',
      tenant: 'acme',
      collection: 'docs',
      key: 'a~2Emd',
    });
    expect(s.parse('other.events.a.b.c')).toBeUndefined();
    expect(s.all('events', 'acme')).toBe('sluice.events.acme.>');
  });
});
