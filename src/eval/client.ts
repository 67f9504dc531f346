import { SluiceError } from '../errors/index.js';

export type Mode = 'vector' | 'keyword' | 'hybrid';

export interface Hit {
  collection: string;
  documentId: string;
  chunkIndex: number;
  score: number;
}

export interface SearchAnswer {
  results: Hit[];
  fusion?: { vectorWeight: number; source: string };
  /** Wall time of the request as the client saw it. */
  ms: number;
}

/** The few HTTP API calls `sluice eval` makes, with the caller's key. */
export class ApiClient {
  constructor(
    private readonly base: string,
    private readonly key: string | undefined,
  ) {}

  /** One request; a 429 is waited out (Retry-After) and the request sent again. */
  async call<T>(method: string, path: string, body?: unknown, contentType = 'application/json') {
    for (;;) {
      const answer = await this.once<T>(method, path, body, contentType);
      if (answer.status !== 429) return answer;
      await new Promise((r) => setTimeout(r, Math.min(60, Math.max(1, answer.retryAfter)) * 1000));
    }
  }

  private async once<T>(method: string, path: string, body: unknown, contentType: string) {
    const res = await fetch(new URL(path, this.base), {
      method,
      headers: {
        ...(this.key ? { authorization: `Bearer ${this.key}` } : {}),
        ...(body === undefined ? {} : { 'content-type': contentType }),
      },
      ...(body === undefined
        ? {}
        : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    }).catch((err: unknown) => {
      throw new SluiceError(
        'REQUEST_INVALID',
        `cannot reach the Sluice API at ${this.base} (${(err as Error).message}); start it (scripts/start) or pass --url`,
      );
    });
    const text = await res.text();
    const json = text
      ? (JSON.parse(text) as T & { error?: { code: string; message: string } })
      : ({} as T);
    return {
      status: res.status,
      retryAfter: Number(res.headers.get('retry-after') ?? 1) || 1,
      body: json as T & { error?: { code: string; message: string } },
    };
  }

  async search(body: Record<string, unknown>): Promise<SearchAnswer> {
    const started = performance.now();
    const { status, body: answer } = await this.call<{
      results: Hit[];
      fusion?: SearchAnswer['fusion'];
    }>('POST', '/v1/search', body);
    const ms = performance.now() - started;
    if (status === 400 && answer.error?.code === 'QUERY_NO_TERMS') return { results: [], ms };
    if (status !== 200)
      throw new SluiceError(
        'REQUEST_INVALID',
        `search answered ${status}: ${answer.error?.code ?? ''} ${answer.error?.message ?? ''}`,
      );
    return { results: answer.results, ...(answer.fusion ? { fusion: answer.fusion } : {}), ms };
  }
}

/** Runs `work` over `items` with at most `concurrency` at once, in order of results. */
export async function pool<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<R>,
  onDone?: () => void,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, concurrency) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await work(items[i]!, i);
        onDone?.();
      }
    }),
  );
  return out;
}
