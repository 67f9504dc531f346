import { JetStreamApiError } from '@nats-io/jetstream';
import { errors } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { SluiceError } from '../errors/index.js';
import { dependencyOf } from './breakers.js';
import { classify, isOutage } from './classify.js';
import { publishFailure } from './publisher.js';

/** An error shaped as postgres.js throws them: a message and a SQLSTATE or errno code. */
const pg = (code: string, message = 'failed') => Object.assign(new Error(message), { code });

describe('classify: what the runtime does with a failure', () => {
  it.each([
    [
      'a SluiceError keeps its own kind',
      new SluiceError('EVENT_INVALID', 'bad'),
      'EVENT_INVALID',
      false,
    ],
    ['a serialization failure is retried', pg('40001'), 'DB_UNAVAILABLE', true],
    ['a deadlock is retried', pg('40P01'), 'DB_UNAVAILABLE', true],
    ['a refused connection is retried', pg('ECONNREFUSED'), 'DB_UNAVAILABLE', true],
    ['a server shutting down is retried', pg('57P01'), 'DB_UNAVAILABLE', true],
    [
      'bad UTF-8 (22021) is permanent',
      pg('22021', 'invalid byte sequence'),
      'DATA_REJECTED',
      false,
    ],
    ['a timestamp out of range (22008) is permanent', pg('22008'), 'DATA_REJECTED', false],
    ['invalid text representation (22P02) is permanent', pg('22P02'), 'DATA_REJECTED', false],
    ['a unique violation (23505) is permanent', pg('23505'), 'DATA_REJECTED', false],
    [
      'a data error as the cause is permanent',
      new Error('wrapped', { cause: pg('22001') }),
      'DATA_REJECTED',
      false,
    ],
    [
      'an undefined table (42P01) is retried (a migration may be on its way)',
      pg('42P01'),
      'HANDLER_FAILED',
      true,
    ],
    ['anything unexpected is retried', new TypeError('x is undefined'), 'HANDLER_FAILED', true],
    ['a thrown string is retried', 'boom', 'HANDLER_FAILED', true],
  ])('%s', (_name, err, code, retryable) => {
    expect(classify(err)).toMatchObject({ code, retryable });
  });

  it('names the SQLSTATE of a data error in its message', () => {
    expect(classify(pg('22021', 'invalid byte sequence for encoding "UTF8": 0x00')).message).toBe(
      'invalid byte sequence for encoding "UTF8": 0x00 (22021)',
    );
  });

  it.each([
    ['DB_UNAVAILABLE', true],
    ['NATS_UNAVAILABLE', true],
    ['DATA_REJECTED', false],
    ['HANDLER_FAILED', false],
  ] as const)('%s is an outage: %s', (code, outage) => {
    expect(isOutage({ code, message: '', retryable: true })).toBe(outage);
  });
});

describe('a publish that fails: an outage, or a message refused', () => {
  /** What @nats-io/jetstream throws when no server answers the subject (no stream leader). */
  const noResponders = Object.assign(new Error('jetstream is not enabled'), {
    name: 'JetStreamNotEnabled',
  });
  const api = (code: number, err_code: number, description: string) =>
    new JetStreamApiError({ code, err_code, description });
  it.each([
    [
      "no responders to its deadline (an R1 stream's node is down)",
      noResponders,
      false,
      'NATS_UNAVAILABLE',
      'nats',
    ],
    ['ack timeouts to its deadline', new errors.TimeoutError(), false, 'NATS_UNAVAILABLE', 'nats'],
    [
      'JetStream unavailable (503) to its deadline',
      api(503, 10008, 'JetStream system temporarily unavailable'),
      false,
      'NATS_UNAVAILABLE',
      'nats',
    ],
    [
      'a message JetStream refuses',
      api(400, 10054, 'message size exceeds maximum allowed'),
      false,
      'PUBLISH_FAILED',
      undefined,
    ],
    [
      'the connection closed under it (the process stops)',
      new errors.ConnectionError('closed'),
      true,
      'PUBLISH_FAILED',
      undefined,
    ],
  ] as const)('%s: %s', (_what, err, closed, code, dependency) => {
    const f = classify(publishFailure('ns.chunks.t.c.d', err, { closed, deadlineMs: 3_000 }));
    expect(f).toMatchObject({ code, retryable: true });
    // An outage is not split (isolation.ts) and trips the dependency's breaker.
    expect(isOutage(f)).toBe(dependency !== undefined);
    expect(dependencyOf(f)).toBe(dependency);
  });

  it('names the subject and the deadline', () => {
    expect(
      publishFailure('ns.chunks.t.c.d', noResponders, { closed: false, deadlineMs: 3_000 }),
    ).toMatchInlineSnapshot(
      `[SluiceError: could not publish to ns.chunks.t.c.d within 3000 ms: jetstream is not enabled (NATS or the stream's leader is unavailable)]`,
    );
  });
});
