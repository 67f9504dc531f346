import type { JsMsg } from '@nats-io/jetstream';
import type { MsgHdrs } from '@nats-io/transport-node';
import { context, type Context, type Span } from '@opentelemetry/api';
import type { Subjects } from '../topology/index.js';
import { processSpan } from '../tracing/index.js';
import { readLetter, type AttemptRecord } from './letter.js';

/** One message as a handler sees it, wherever it came from (its stream or the retry stream). */
export interface Delivery {
  /** The original subject, stream and sequence, also for a parked message. */
  subject: string;
  stream: string;
  seq: number;
  headers: MsgHdrs | undefined;
  data: Uint8Array;
  /** 1 on the first attempt; counts quick redeliveries and parked attempts. */
  attempt: number;
  source: 'stream' | 'retry';
  /** Times a dead letter of this message was redriven. */
  generation: number;
  history: AttemptRecord[];
  msg: JsMsg;
  /** This delivery's CONSUMER span (a no-op when tracing is off); ended once it is settled. */
  span: Span;
  /** The trace context of this delivery: what it publishes continues it (see inDelivery). */
  trace: Context;
}

/** Runs `fn` in the delivery's trace context, so that what it publishes or logs belongs to it. */
export function inDelivery<T>(d: Delivery, fn: () => T): T {
  return context.with(d.trace, fn);
}

/**
 * The attempt a delivery of a parked copy counts as. A parked copy is delivered once
 * early (and put back until due) and once when due; any delivery past those two came
 * back after a crash or an expired ack wait, and spent an attempt too. (A crash right
 * after a first, late delivery goes uncounted: at most one per parking, so the count
 * still reaches the limit.)
 */
export function parkedAttempt(letterAttempt: number, deliveryCount: number): number {
  return letterAttempt + 1 + Math.max(0, deliveryCount - 2);
}

/** How long a parked copy must still wait, or 0 when it is due (50 ms early counts as due). */
export function waitUntilDue(due: number | undefined, now: number): number {
  return due !== undefined && due > now + 50 ? due - now : 0;
}

/**
 * Quick-retry history, which nak() cannot carry: stream:seq → attempts. Bounded: past
 * `limit` entries the oldest is forgotten.
 */
export class QuickHistory {
  private readonly map = new Map<string, AttemptRecord[]>();
  constructor(private readonly limit = 10_000) {}

  get(stream: string, seq: number): AttemptRecord[] | undefined {
    return this.map.get(`${stream}:${seq}`);
  }

  set(stream: string, seq: number, history: AttemptRecord[]): void {
    if (this.map.size > this.limit) this.map.delete(this.map.keys().next().value!);
    this.map.set(`${stream}:${seq}`, history);
  }

  delete(stream: string, seq: number): void {
    this.map.delete(`${stream}:${seq}`);
  }

  get size(): number {
    return this.map.size;
  }
}

/**
 * Turns a pulled message into a delivery: its own subject and sequence when it came from
 * its stream; the original ones, from its letter, when it came from the retry stream.
 * 'later': a parked copy that is not due yet (put back with nak until it is);
 * undefined: a message in the retry stream without a letter.
 */
export function toDelivery(
  m: JsMsg,
  source: 'stream' | 'retry',
  now: number,
  o: { durable: string; subjects: Subjects; quickHistory: QuickHistory },
): Delivery | 'later' | undefined {
  if (source === 'stream') {
    return traced(
      {
        subject: m.subject,
        stream: m.info.stream,
        seq: m.seq,
        headers: m.headers,
        data: m.data,
        attempt: m.info.deliveryCount,
        source,
        generation: 0,
        history: o.quickHistory.get(m.info.stream, m.seq) ?? [],
        msg: m,
      },
      o,
    );
  }
  const letter = readLetter(m.headers);
  if (letter === undefined) return undefined;
  const wait = waitUntilDue(letter.due, now);
  if (wait > 0) {
    m.nak(wait);
    return 'later';
  }
  return traced(
    {
      subject: letter.subject,
      stream: letter.stream,
      seq: letter.seq,
      headers: m.headers,
      data: m.data,
      attempt: parkedAttempt(letter.attempt, m.info.deliveryCount),
      source,
      generation: letter.generation ?? 0,
      history: letter.history,
      msg: m,
    },
    o,
  );
}

/** Starts the delivery's span, child of the trace its message carries. */
function traced(
  d: Omit<Delivery, 'span' | 'trace'>,
  o: { durable: string; subjects: Subjects },
): Delivery {
  const ref = o.subjects.parse(d.subject);
  const { span, context: trace } = processSpan({
    subject: d.subject,
    durable: o.durable,
    headers: d.headers,
    seq: d.seq,
    attempt: d.attempt,
    attributes: {
      'sluice.tenant': ref?.tenant,
      'sluice.collection': ref?.collection,
      'sluice.retry.source': d.source,
    },
  });
  return { ...d, span, trace };
}
