import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** A new signing secret in the Standard Webhooks form: whsec_ and 32 random bytes, base64. */
export function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

function key(secret: string): Buffer {
  return Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
}

/**
 * The `webhook-signature` header of Standard Webhooks: `v1,` and the base64
 * HMAC-SHA256, keyed by the secret, of `<webhook-id>.<webhook-timestamp>.<body>`.
 */
export function sign(secret: string, id: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', key(secret)).update(`${id}.${timestamp}.${body}`).digest();
  return `v1,${mac.toString('base64')}`;
}

/** Verifies a `webhook-signature` header (any of its space-separated signatures). */
export function verify(
  secret: string,
  id: string,
  timestamp: number,
  body: string,
  header: string,
): boolean {
  const expected = Buffer.from(sign(secret, id, timestamp, body));
  return header
    .split(' ')
    .some((s) => s.length === expected.length && timingSafeEqual(Buffer.from(s), expected));
}
