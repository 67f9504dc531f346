import { randomBytes } from 'node:crypto';

/** A short random lowercase token, unique enough for names inside one test run. */
export function randomToken(length = 8): string {
  return randomBytes(16).toString('hex').slice(0, length);
}

/** A Sluice namespace of its own for one test: its own subjects, streams and consumers. */
export function uniqueNamespace(prefix = 't'): string {
  return `${prefix}${randomToken(8)}`;
}
