import { describe, expect, it } from 'vitest';
import { pumpBatches, type BatcherOptions } from './batcher.js';

class Msg {
  workings = 0;
  naks = 0;
  constructor(readonly n: number) {}
  working(): void {
    this.workings++;
  }
  nak(): void {
    this.naks++;
  }
}

/** A message source the test pushes into and ends. */
function channel() {
  const queue: Msg[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  const iterable: AsyncIterable<Msg> = {
    async *[Symbol.asyncIterator]() {
      for (;;) {
        if (queue.length > 0) yield queue.shift()!;
        else if (ended) return;
        else await new Promise<void>((r) => (wake = r));
      }
    },
  };
  const poke = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  return {
    iterable,
    push: (...ms: Msg[]) => {
      queue.push(...ms);
      poke();
    },
    end: () => {
      ended = true;
      poke();
    },
  };
}

const until = async (cond: () => boolean): Promise<void> => {
  while (!cond()) await new Promise((r) => setTimeout(r, 2));
};

function options(over: Partial<BatcherOptions<Msg>> = {}) {
  const batches: number[][] = [];
  const o: BatcherOptions<Msg> = {
    batchSize: 3,
    batchWaitMs: 10_000,
    keepAliveMs: 60_000,
    ready: () => Promise.resolve(),
    release: () => {},
    launch: (b) => batches.push(b.map((m) => m.n)),
    stopping: () => false,
    onError: () => {},
    ...over,
  };
  return { o, batches };
}

const msgs = (...ns: number[]) => ns.map((n) => new Msg(n));

describe('pumpBatches: buffer, wait, keep-alive', () => {
  it('forms full batches in arrival order and a partial one when the source ends', async () => {
    const c = channel();
    const { o, batches } = options();
    const done = pumpBatches(c.iterable, o);
    c.push(...msgs(1, 2, 3, 4, 5, 6, 7));
    await until(() => batches.length === 2);
    expect(batches).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    c.end();
    await done;
    expect(batches[2]).toEqual([7]);
  });

  it('launches a partial batch once batchWaitMs has passed', async () => {
    const c = channel();
    const { o, batches } = options({ batchWaitMs: 20 });
    const done = pumpBatches(c.iterable, o);
    c.push(...msgs(1));
    await until(() => batches.length === 1);
    expect(batches).toEqual([[1]]);
    c.end();
    await done;
  });

  it('forms no batch until a slot is free, and the batch grows meanwhile', async () => {
    const c = channel();
    let free!: () => void;
    const slot = new Promise<void>((r) => (free = r));
    const { o, batches } = options({ ready: () => slot, batchWaitMs: 0 });
    const done = pumpBatches(c.iterable, o);
    c.push(...msgs(1));
    c.push(...msgs(2));
    await new Promise((r) => setTimeout(r, 20));
    expect(batches).toEqual([]);
    free();
    await until(() => batches.length === 1);
    expect(batches[0]).toEqual([1, 2]);
    c.end();
    await done;
  });

  it('stops reading at two batches buffered, and keeps the buffered messages alive', async () => {
    const c = channel();
    let free!: () => void;
    const slot = new Promise<void>((r) => (free = r));
    const { o, batches } = options({ ready: () => slot, keepAliveMs: 5 });
    const done = pumpBatches(c.iterable, o);
    const all = msgs(1, 2, 3, 4, 5, 6, 7, 8);
    c.push(...all);
    await until(() => all[0]!.workings >= 2);
    // Six read (two batches), the rest left at the source; only buffered ones kept alive.
    expect(all.slice(0, 6).every((m) => m.workings >= 1)).toBe(true);
    expect(all.slice(6).map((m) => m.workings)).toEqual([0, 0]);
    expect(batches).toEqual([]);
    free();
    c.end();
    await done;
    expect(batches.flat()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('hands back with nak() what arrives while stopping', async () => {
    const c = channel();
    let stopping = false;
    const { o, batches } = options({ stopping: () => stopping });
    const done = pumpBatches(c.iterable, o);
    stopping = true;
    const late = msgs(1, 2);
    c.push(...late);
    c.end();
    await done;
    expect(late.map((m) => m.naks)).toEqual([1, 1]);
    expect(batches).toEqual([]);
  });
});
