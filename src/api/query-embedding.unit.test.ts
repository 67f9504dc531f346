import { describe, expect, it } from 'vitest';
import { isSluiceError } from '../errors/index.js';
import { QueryEmbedding } from './query-embedding.js';

/** An embedding function whose answers the test releases by hand. */
function gate() {
  const waiting: ((v: Float32Array[]) => void)[] = [];
  return {
    embed: (texts: string[]) =>
      new Promise<Float32Array[]>((resolve) =>
        waiting.push(() => resolve(texts.map(() => new Float32Array([1])))),
      ),
    releaseAll: () => waiting.splice(0).forEach((r) => r([])),
  };
}

const code = async (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: unknown) => (isSluiceError(e) ? e.code : String(e)),
  );

describe('query embedding queue', () => {
  it('refuses a query past the bound at once, and takes queries again once the worker is done', async () => {
    const g = gate();
    const q = new QueryEmbedding(g.embed, { maxPending: 2, timeoutMs: 10_000 });
    const a = q.vector('a');
    const b = q.vector('b');
    expect(await code(q.vector('c'))).toBe('SEARCH_OVERLOADED');
    expect(q.waiting).toBe(2);
    g.releaseAll();
    expect(await code(a)).toBe('ok');
    expect(await code(b)).toBe('ok');
    expect(q.waiting).toBe(0);
    const d = q.vector('d');
    g.releaseAll();
    expect((await d)[0]).toBe(1);
  });

  it('answers SEARCH_OVERLOADED after the timeout, and keeps counting the query until the worker is done', async () => {
    const g = gate();
    const q = new QueryEmbedding(g.embed, { maxPending: 1, timeoutMs: 30 });
    const started = performance.now();
    expect(await code(q.vector('slow'))).toBe('SEARCH_OVERLOADED');
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
    // The worker still has it: the bound holds.
    expect(await code(q.vector('next'))).toBe('SEARCH_OVERLOADED');
    g.releaseAll();
    await new Promise((r) => setTimeout(r, 0));
    expect(q.waiting).toBe(0);
  });

  it('passes an embedding failure through', async () => {
    const q = new QueryEmbedding(() => Promise.reject(new Error('worker exited')));
    expect(await code(q.vector('x'))).toBe('Error: worker exited');
    expect(q.waiting).toBe(0);
  });
});
