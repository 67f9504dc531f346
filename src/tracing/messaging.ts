import type { MsgHdrs } from '@nats-io/transport-node';
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  defaultTextMapGetter,
  propagation,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';

/** Every span Sluice starts comes from this tracer (a no-op until startTracing registers one). */
export const tracer = trace.getTracer('sluice');

const setter: TextMapSetter<MsgHdrs> = { set: (h, k, v) => h.set(k, v) };
const getter: TextMapGetter<MsgHdrs | undefined> = {
  keys: (h) => (h ? [...h.keys()] : []),
  get: (h, k) => (h?.has(k) ? h.get(k) : undefined),
};

/**
 * The kind of a subject (`<ns>.<kind>.…`): the low-cardinality part that names a span.
 * Subjects carry tenant and document keys, which would make every span name unique.
 */
export function subjectKind(subject: string): string {
  return subject.split('.')[1] ?? subject;
}

/**
 * The trace context a message carries: the W3C `traceparent`/`tracestate` headers of
 * its hop or, for an event published without them, the CloudEvents distributed-tracing
 * extension (`ce-traceparent`) its producer set.
 */
export function extractTrace(headers: MsgHdrs | undefined): Context {
  const ctx = propagation.extract(ROOT_CONTEXT, headers, getter);
  if (trace.getSpanContext(ctx) || !headers?.has('ce-traceparent')) return ctx;
  const carrier: Record<string, string> = { traceparent: headers.get('ce-traceparent') };
  if (headers.has('ce-tracestate')) carrier.tracestate = headers.get('ce-tracestate');
  return propagation.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
}

/** Ends a span with the outcome of the work it covered. */
export function endSpan(span: Span, err?: unknown): void {
  if (err !== undefined) {
    const e = err instanceof Error ? err : new Error(JSON.stringify(err));
    span.recordException(e);
    span.setStatus({ code: SpanStatusCode.ERROR, message: e.message });
  }
  span.end();
}

/** Runs `fn` in a span that ends with its outcome. */
export async function inSpan<T>(
  name: string,
  options: { kind?: SpanKind; attributes?: Attributes; links?: Link[] },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const span = tracer.startSpan(name, options);
  try {
    const out = await context.with(trace.setSpan(context.active(), span), () => fn(span));
    endSpan(span);
    return out;
  } catch (err) {
    endSpan(span, err);
    throw err;
  }
}

export interface SendAttributes {
  subject: string;
  msgId: string;
  /** Payload size in bytes. */
  bytes: number;
  attributes?: Attributes;
}

/**
 * A PRODUCER span around one publish, continuing the active trace, whose context goes
 * into the message's headers so that the consumer's span becomes its child.
 */
export function sendSpan<T>(
  headers: MsgHdrs,
  o: SendAttributes,
  publish: () => Promise<T>,
): Promise<T> {
  return inSpan(
    `send ${subjectKind(o.subject)}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': 'nats',
        'messaging.operation.name': 'send',
        'messaging.operation.type': 'send',
        'messaging.destination.name': o.subject,
        'messaging.message.id': o.msgId,
        'messaging.message.body.size': o.bytes,
        ...o.attributes,
      },
    },
    () => {
      propagation.inject(context.active(), headers, setter);
      return publish();
    },
  );
}

/** A CONSUMER span for one delivery, child of the context its message carries. */
export function processSpan(o: {
  subject: string;
  durable: string;
  headers: MsgHdrs | undefined;
  seq: number;
  attempt: number;
  attributes?: Attributes;
}): { span: Span; context: Context } {
  const parent = extractTrace(o.headers);
  const span = tracer.startSpan(
    `process ${subjectKind(o.subject)}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': 'nats',
        'messaging.operation.name': 'process',
        'messaging.operation.type': 'process',
        'messaging.destination.name': o.subject,
        'messaging.consumer.group.name': o.durable,
        'messaging.message.id': o.headers?.has('Nats-Msg-Id') ? o.headers.get('Nats-Msg-Id') : '',
        'messaging.nats.stream.sequence': o.seq,
        'messaging.nats.delivery.attempt': o.attempt,
        ...o.attributes,
      },
    },
    parent,
  );
  return { span, context: trace.setSpan(parent, span) };
}

/** Links to the spans of many messages, for work done on them together (a batch). */
export function linksTo(contexts: readonly Context[]): Link[] {
  const links: Link[] = [];
  for (const c of contexts) {
    const sc = trace.getSpanContext(c);
    if (sc && trace.isSpanContextValid(sc)) links.push({ context: sc });
  }
  return links;
}

/** The active span's ids for a log line, or nothing when no span is active. */
export function traceFields(): { trace_id: string; span_id: string } | undefined {
  const sc = trace.getSpan(context.active())?.spanContext();
  if (!sc || !trace.isSpanContextValid(sc)) return undefined;
  return { trace_id: sc.traceId, span_id: sc.spanId };
}
