import { errorCodes, type ErrorCode } from './codes.js';

export interface SluiceErrorOptions extends ErrorOptions {
  /** Safe, structured facts about the failure (never secrets or internals). */
  details?: Record<string, unknown>;
}

/**
 * The one error base class. `code` is stable and documented in docs/errors.md;
 * `message` is for humans and may change.
 */
export class SluiceError extends Error {
  override readonly name = 'SluiceError';
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: SluiceErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details;
  }

  /** HTTP status that this code maps to at the API boundary. */
  get status(): number {
    return errorCodes[this.code].status;
  }

  /** Whether retrying the same input can succeed (transient) or never will (permanent). */
  get retryable(): boolean {
    return errorCodes[this.code].retryable;
  }
}

export function isSluiceError(err: unknown, code?: ErrorCode): err is SluiceError {
  return err instanceof SluiceError && (code === undefined || err.code === code);
}
