import { isSluiceError, type ErrorCode } from '../../errors/index.js';

export type BatchStatus = 'accepted' | 'duplicate' | 'rejected' | 'failed';

export interface BatchResult {
  index: number;
  id: string | undefined;
  status: BatchStatus;
  seq?: number;
  error?: { code: ErrorCode; message: string; pointer?: string };
}

export interface BatchOptions {
  /** Publishes awaiting their ack at once: the memory and backpressure bound. @defaultValue 256 */
  maxInFlight?: number;
  onResult?: (result: BatchResult) => void;
  signal?: AbortSignal;
}

export type BatchSummary = Record<BatchStatus, number> & { total: number };

/**
 * Publishes many events with at most `maxInFlight` awaiting their ack: memory stays
 * bounded however long the input is, and a slow server slows the reader down.
 * Each event gets its own result; one bad event never stops the others.
 */
export async function publishBatch(
  publish: (input: unknown) => Promise<{ id: string; seq: number; duplicate: boolean }>,
  events: Iterable<unknown> | AsyncIterable<unknown>,
  options: BatchOptions = {},
): Promise<BatchSummary> {
  const maxInFlight = options.maxInFlight ?? 256;
  const summary: BatchSummary = { total: 0, accepted: 0, duplicate: 0, rejected: 0, failed: 0 };
  // A counting semaphore: one waiter woken per completed publish (Promise.race over
  // the in-flight set would attach a handler to every pending publish, each time).
  let active = 0;
  let wake: (() => void) | undefined;
  const settle = (r: BatchResult): void => {
    summary[r.status]++;
    options.onResult?.(r);
    active--;
    const w = wake;
    wake = undefined;
    w?.();
  };
  const slot = (): Promise<void> => new Promise<void>((r) => (wake = r));
  let index = 0;
  const send = (input: unknown): void => {
    const i = index++;
    summary.total++;
    active++;
    publish(input).then(
      (r) =>
        settle({
          index: i,
          id: r.id,
          status: r.duplicate ? 'duplicate' : 'accepted',
          seq: r.seq,
        }),
      (err: unknown) => {
        const id =
          typeof input === 'object' && input !== null ? (input as { id?: unknown }).id : undefined;
        settle(batchFailure(i, typeof id === 'string' ? id : undefined, err));
      },
    );
  };
  if (Symbol.asyncIterator in events) {
    for await (const input of events) {
      if (options.signal?.aborted) break;
      while (active >= maxInFlight) await slot();
      send(input);
    }
  } else {
    for (const input of events) {
      if (options.signal?.aborted) break;
      while (active >= maxInFlight) await slot();
      send(input);
    }
  }
  while (active > 0) await slot();
  return summary;
}

/** A failed publish as a batch result: rejected (the event is bad) or failed (try again). */
function batchFailure(index: number, id: string | undefined, err: unknown): BatchResult {
  if (isSluiceError(err)) {
    const pointer = typeof err.details?.pointer === 'string' ? err.details.pointer : undefined;
    const status: BatchStatus =
      err.retryable || err.code === 'VERSION_CONFLICT' ? 'failed' : 'rejected';
    return {
      index,
      id,
      status,
      error: {
        code: err.code,
        message: err.message,
        ...(pointer === undefined ? {} : { pointer }),
      },
    };
  }
  return { index, id, status: 'failed', error: { code: 'INTERNAL', message: String(err) } };
}
