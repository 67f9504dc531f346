import { describe, expect, it } from 'vitest';
import { errorCodes } from './codes.js';
import { SluiceError, isSluiceError } from './sluice-error.js';

describe('SluiceError', () => {
  it('carries a stable code, a cause and the status of its code', () => {
    const cause = new Error('ECONNREFUSED');
    const e = new SluiceError('DB_UNAVAILABLE', 'cannot reach PostgreSQL', { cause });
    expect(e.code).toBe('DB_UNAVAILABLE');
    expect(e.cause).toBe(cause);
    expect(e.status).toBe(503);
    expect(e.retryable).toBe(true);
    expect(e.name).toBe('SluiceError');
    expect(isSluiceError(e, 'DB_UNAVAILABLE')).toBe(true);
    expect(isSluiceError(e, 'INTERNAL')).toBe(false);
    expect(isSluiceError(cause)).toBe(false);
  });

  it('has codes in SCREAMING_SNAKE_CASE with an HTTP status and a description', () => {
    for (const [code, info] of Object.entries(errorCodes)) {
      expect(code).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
      expect(info.status).toBeGreaterThanOrEqual(400);
      expect(info.description.length).toBeGreaterThan(10);
    }
  });
});
