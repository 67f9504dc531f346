import { SluiceError } from '../errors/index.js';

export interface QueryEmbeddingOptions {
  /** Queries embedding or waiting at once, per model; more are refused. @defaultValue 64 */
  maxPending?: number;
  /** How long a search waits for its query's vector. @defaultValue 5000 */
  timeoutMs?: number;
}

/**
 * A bound on the queries waiting for one model's worker. A search refused here, or
 * kept past the timeout, is answered 503 SEARCH_OVERLOADED with Retry-After at once,
 * instead of joining a queue that only grows; a query that timed out still counts as
 * pending until the worker is done with it, so the bound holds for the worker too.
 */
export class QueryEmbedding {
  private pending = 0;

  constructor(
    private readonly embed: (texts: string[]) => Promise<Float32Array[]>,
    private readonly o: QueryEmbeddingOptions = {},
  ) {}

  /** Queries waiting or being embedded now. */
  get waiting(): number {
    return this.pending;
  }

  async vector(query: string): Promise<Float32Array> {
    const max = this.o.maxPending ?? 64;
    if (this.pending >= max)
      throw overloaded(`${this.pending} queries are waiting to be embedded (the limit is ${max})`);
    this.pending++;
    const work = this.embed([query]).finally(() => this.pending--);
    let timer: NodeJS.Timeout | undefined;
    const timeoutMs = this.o.timeoutMs ?? 5_000;
    try {
      return await Promise.race([
        work.then((v) => v[0]!),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(overloaded(`the query was not embedded within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
      work.catch(() => {}); // a late failure after the timeout has no one to tell
    }
  }
}

function overloaded(why: string): SluiceError {
  return new SluiceError('SEARCH_OVERLOADED', `${why}; retry shortly`, {
    details: { retryAfter: 1 },
  });
}
