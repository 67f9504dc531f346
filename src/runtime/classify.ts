import { dataErrorState, isTransientDbError } from '../db/index.js';
import { isSluiceError, type ErrorCode } from '../errors/index.js';
import { isTransientPublishError } from '../nats/index.js';

export interface Failure {
  code: ErrorCode;

  message: string;
  /** true: worth another attempt later; false: dead-letter now. */
  retryable: boolean;
}

/**
 * Maps any error a handler throws to what the runtime does with the message:
 * SluiceErrors carry their own kind; database and NATS connection trouble (and
 * SQLSTATE 40001, 40P01, 57P03 …) is transient; a data error (SQLSTATE class 22 or 23)
 * is permanent; anything unexpected is retried, as HANDLER_FAILED, and dead-lettered
 * once the attempts are spent.
 */
export function classify(err: unknown): Failure {
  if (isSluiceError(err)) return { code: err.code, message: err.message, retryable: err.retryable };
  const message = err instanceof Error ? err.message : String(err);
  if (isTransientDbError(err)) {
    const code = (err as { code?: string }).code;
    return {
      code: 'DB_UNAVAILABLE',
      message: code ? `${message} (${code})` : message,
      retryable: true,
    };
  }
  if (isTransientPublishError(err)) return { code: 'NATS_UNAVAILABLE', message, retryable: true };
  const state = dataErrorState(err);
  if (state) return { code: 'DATA_REJECTED', message: `${message} (${state})`, retryable: false };
  return { code: 'HANDLER_FAILED', message, retryable: true };
}

/** A dependency outage: every message would fail alike, so nothing is learnt by splitting. */
export const isOutage = (f: Failure): boolean =>
  f.code === 'DB_UNAVAILABLE' || f.code === 'NATS_UNAVAILABLE';
