import { SluiceError } from '../errors/index.js';

/** SQLSTATEs worth retrying: serialization failure, deadlock, shutdown, cannot connect now. */
const TRANSIENT_SQLSTATES = new Set([
  '40001',
  '40P01',
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
]);
const CONNECTION_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
]);

/** True when a database error is worth retrying (the server is down, busy or restarting). */
export function isTransientDbError(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error || (typeof e === 'object' && e !== null);) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (TRANSIENT_SQLSTATES.has(code) || CONNECTION_ERRNOS.has(code)))
      return true;
    e = (e as { cause?: unknown }).cause;
    if (e === undefined) break;
  }
  return false;
}

/**
 * The SQLSTATE of a data error: class 22 (data exception: bad encoding, value out of
 * range, invalid text representation) or 23 (integrity constraint violation). The same
 * data fails the same way every time, so retrying it only delays its neighbours.
 */
export function dataErrorState(err: unknown): string | undefined {
  for (let e: unknown = err; typeof e === 'object' && e !== null;) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^2[23][0-9A-Z]{3}$/.test(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Wraps a connection failure in DB_UNAVAILABLE (with the host, never the password). */
export function dbUnavailable(err: unknown, url: string): SluiceError {
  const u = new URL(url);
  const why = err instanceof Error ? err.message : String(err);
  return new SluiceError(
    'DB_UNAVAILABLE',
    `cannot reach PostgreSQL at ${u.hostname}:${u.port || 5432}: ${why}`,
    {
      cause: err,
    },
  );
}
