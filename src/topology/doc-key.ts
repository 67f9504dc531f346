import { createHash } from 'node:crypto';

const SAFE = /^[A-Za-z0-9_-]$/;
const MAX_READABLE = 200;

/**
 * Encodes a document id into one NATS subject token, so that each document has its
 * own subject (per-document ordering and optimistic concurrency).
 *
 * Readable and injective: [A-Za-z0-9_-] stay, every other UTF-8 byte becomes ~HH.
 * Keys that would exceed 200 characters become `~~` + base64url(sha256(id)), which the
 * readable form can never produce ('~' is always followed by two hex digits there).
 */
export function docKey(documentId: string): string {
  let out = '';
  for (const ch of documentId) {
    if (SAFE.test(ch)) {
      out += ch;
    } else {
      for (const byte of Buffer.from(ch, 'utf8'))
        out += `~${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    }
    if (out.length > MAX_READABLE)
      return `~~${createHash('sha256').update(documentId, 'utf8').digest('base64url')}`;
  }
  return out;
}

/** The document id back from a readable key; undefined for hashed (long) keys. */
export function documentIdOf(key: string): string | undefined {
  if (key.startsWith('~~')) return undefined;
  const bytes: number[] = [];
  for (let i = 0; i < key.length;) {
    if (key[i] === '~') {
      bytes.push(parseInt(key.slice(i + 1, i + 3), 16));
      i += 3;
    } else {
      bytes.push(key.charCodeAt(i));
      i += 1;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
