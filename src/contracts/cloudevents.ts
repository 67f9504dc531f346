import { Match, MsgHdrsImpl, type MsgHdrs } from '@nats-io/transport-node';
import { MAX_JSON_DEPTH, nestedTooDeep } from './json-depth.js';
import { SluiceError } from '../errors/index.js';

/**
 * CloudEvents over NATS (protocol binding 1.0.3). Sluice writes binary mode: each
 * context attribute in a `ce-<name>` header (percent-encoded), the data as the payload.
 * It reads both modes: a `Content-Type: application/cloudevents…` header means
 * structured mode (the whole event as JSON in the payload).
 */

const encoder = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

// Printable ASCII except space, '"' and '%': the values that need no encoding at all.
const PLAIN = /^[\x21\x23\x24\x26-\x7e]*$/;

/** Percent-encodes space, '"', '%' and everything outside printable ASCII (binding §3.1.3.2). */
export function encodeHeaderValue(value: string): string {
  if (PLAIN.test(value)) return value;
  let out = '';
  for (const ch of value) {
    const c = ch.codePointAt(0)!;
    if (c > 0x20 && c < 0x7f && ch !== '"' && ch !== '%') {
      out += ch;
    } else {
      for (const b of encoder.encode(ch))
        out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    }
  }
  return out;
}

/** Inverse of encodeHeaderValue; also accepts legacy double-quoted values. Rejects invalid UTF-8. */
export function decodeHeaderValue(raw: string): string {
  let v = raw.trim();
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"'))
    v = v.slice(1, -1).replace(/\\(.)/g, '$1');
  if (!v.includes('%')) return v;
  const bytes: number[] = [];
  for (let i = 0; i < v.length; i++) {
    const m = v[i] === '%' ? /^[0-9a-fA-F]{2}$/.exec(v.slice(i + 1, i + 3)) : null;
    if (m) {
      bytes.push(parseInt(m[0], 16));
      i += 2;
    } else {
      bytes.push(...encoder.encode(v[i]));
    }
  }
  return strictUtf8.decode(new Uint8Array(bytes));
}

const PREFIX = 'ce-';

/**
 * Binary mode: attributes (everything but data) as ce- headers, the data JSON as the
 * payload. `defaults` fill attributes the event does not carry.
 *
 * Headers are written straight into MsgHdrsImpl's public map: names are unique and
 * CloudEvents attribute names ([a-z0-9], enforced by the envelope schema), values are
 * percent-encoded printable ASCII, so MsgHdrs.set's per-call key scans and checks
 * would only repeat what is already guaranteed, at a third of the producer's CPU.
 */
export function toBinaryMessage(
  event: Record<string, unknown> & { data: unknown },
  defaults: Record<string, string> = {},
): { headers: MsgHdrs; payload: Uint8Array } {
  const hdrs = new MsgHdrsImpl();
  const map = hdrs.headers;
  for (const name in event) {
    const value = event[name];
    if (name === 'data' || value === undefined) continue;
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw invalid(`attribute ${name} must be a string, number or boolean`);
    }
    if (!ATTRIBUTE_NAME.test(name)) throw invalid(`attribute name '${name}' is not [a-z0-9]{1,20}`);
    map.set(PREFIX + name, [encodeHeaderValue(String(value))]);
  }
  for (const name in defaults) {
    if (event[name] === undefined) map.set(PREFIX + name, [encodeHeaderValue(defaults[name]!)]);
  }
  if (!map.has(`${PREFIX}datacontenttype`))
    map.set(`${PREFIX}datacontenttype`, ['application/json']);
  return { headers: hdrs, payload: encoder.encode(JSON.stringify(event.data)) };
}

/** CloudEvents 1.0: attribute names are lower-case ASCII letters and digits, at most 20. */
const ATTRIBUTE_NAME = /^[a-z0-9]{1,20}$/;

function invalid(message: string, cause?: unknown): SluiceError {
  return new SluiceError('EVENT_INVALID', message, {
    cause,
    details: { pointer: '', issues: [{ pointer: '', message }] },
  });
}

/**
 * A NATS message back into a structured CloudEvent object (not yet validated against
 * its contract: see validateEvent).
 */
export function fromMessage(msg: {
  headers?: MsgHdrs | undefined;
  data: Uint8Array;
}): Record<string, unknown> {
  const contentType = msg.headers?.get('content-type', Match.IgnoreCase) ?? '';
  let text: string;
  try {
    text = strictUtf8.decode(msg.data);
  } catch (err) {
    throw invalid('payload is not valid UTF-8', err);
  }
  if (nestedTooDeep(text))
    throw invalid(`payload nests objects or arrays deeper than ${MAX_JSON_DEPTH} levels`);
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch (err) {
    throw invalid(`payload is not valid JSON: ${(err as Error).message}`, err);
  }
  if (/^application\/cloudevents/i.test(contentType)) {
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw invalid('structured event must be a JSON object');
    return body as Record<string, unknown>;
  }
  const event: Record<string, unknown> = {};
  for (const key of msg.headers?.keys() ?? []) {
    const lower = key.toLowerCase();
    if (!lower.startsWith(PREFIX)) continue;
    try {
      event[lower.slice(PREFIX.length)] = decodeHeaderValue(msg.headers!.get(key));
    } catch (err) {
      throw invalid(`header ${key} is not valid percent-encoded UTF-8`, err);
    }
  }
  if (body !== undefined) event.data = body;
  return event;
}
