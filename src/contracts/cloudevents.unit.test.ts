import { headers } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import {
  decodeHeaderValue,
  encodeHeaderValue,
  fromMessage,
  toBinaryMessage,
} from './cloudevents.js';

describe('CloudEvents NATS binding', () => {
  it('percent-encodes header values as the binding specifies', () => {
    expect(encodeHeaderValue('Euro € 😀')).toBe('Euro%20%E2%82%AC%20%F0%9F%98%80');
    expect(encodeHeaderValue('a"b%c')).toBe('a%22b%25c');
    expect(encodeHeaderValue('urn:example:cms/x?y=1')).toBe('urn:example:cms/x?y=1');
  });

  it('decodes percent-encoding, lower-case hex and legacy quoted values', () => {
    expect(decodeHeaderValue('Euro%20%e2%82%ac%20%F0%9F%98%80')).toBe('Euro € 😀');
    expect(decodeHeaderValue('"quoted \\"value\\""')).toBe('quoted "value"');
  });

  it('rejects invalid UTF-8 such as an overlong space', () => {
    expect(() => decodeHeaderValue('%C0%A0')).toThrow();
  });

  it('round-trips an event through binary mode', () => {
    const event = {
      specversion: '1.0',
      id: 'évt 1',
      source: 'urn:x',
      type: 'sluice.document.deleted.v1',
      tenant: 'acme',
      data: { tenant: 'acme', collection: 'c', documentId: 'd' },
    };
    const { headers: h, payload } = toBinaryMessage(event);
    expect(h.get('ce-id')).toBe('%C3%A9vt%201');
    expect(h.get('ce-datacontenttype')).toBe('application/json');
    expect(fromMessage({ headers: h, data: payload })).toEqual({
      ...event,
      datacontenttype: 'application/json',
    });
  });

  it('reads structured mode when Content-Type says application/cloudevents+json', () => {
    const h = headers();
    h.set('Content-Type', 'application/cloudevents+json; charset=utf-8');
    const event = { specversion: '1.0', id: '1', source: 's', type: 't', data: { a: 1 } };
    expect(
      fromMessage({ headers: h, data: new TextEncoder().encode(JSON.stringify(event)) }),
    ).toEqual(event);
  });

  it('turns unreadable payloads into permanent EVENT_INVALID errors', () => {
    expect(() => fromMessage({ data: new Uint8Array([0xff, 0xfe]) })).toThrow(/not valid UTF-8/);
    expect(() => fromMessage({ data: new TextEncoder().encode('{nope') })).toThrow(
      /not valid JSON/,
    );
  });
});
