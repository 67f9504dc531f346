import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { MsgHdrs, NatsConnection } from '@nats-io/transport-node';
import { fromMessage } from '../contracts/index.js';
import { Subjects, streamName, type DocRef } from '../topology/index.js';

/** One event of a document's log, as the events stream holds it. */
export interface LoggedEvent {
  /** Stream sequence: the document's version this event made. */
  seq: number;
  /** When the stream stored it. */
  storedAt: string;
  type: string;
  id: string;
  source: string;
  /** The CloudEvent's own time, when it has one. */
  time: string | null;
  bytes: number;
}

/** The event's attributes, as the pipeline reads them (binary or structured mode). */
function attributesOf(m: {
  headers?: MsgHdrs | undefined;
  data: Uint8Array;
}): Record<string, unknown> {
  try {
    return fromMessage(m);
  } catch {
    // A message the chunker dead-lettered (not JSON, bad encoding): listed, unnamed.
    return {};
  }
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/**
 * A document's events from the event log (the source of truth), oldest first, the last
 * `limit` of them: read with an ordered consumer filtered on the document's subject.
 */
export async function documentEvents(
  nc: NatsConnection,
  namespace: string,
  ref: DocRef,
  limit = 100,
): Promise<LoggedEvent[]> {
  const subject = new Subjects(namespace).event(ref);
  const stream = streamName(namespace, 'events');
  const info = await (
    await jetstreamManager(nc)
  ).streams.info(stream, { subjects_filter: subject });
  const count = info.state.subjects?.[subject] ?? 0;
  if (count === 0) return [];
  const consumer = await jetstream(nc).consumers.get(stream, {
    filter_subjects: [subject],
    deliver_policy: DeliverPolicy.All,
  });
  const out: LoggedEvent[] = [];
  const messages = await consumer.fetch({ max_messages: count, expires: 5_000 });
  for await (const m of messages) {
    const e = attributesOf(m);
    out.push({
      seq: m.seq,
      storedAt: new Date(Number(m.info.timestampNanos / 1_000_000)).toISOString(),
      type: str(e.type) ?? 'unreadable',
      id: str(e.id) ?? '',
      source: str(e.source) ?? '',
      time: str(e.time),
      bytes: m.data.length,
    });
    if (out.length > limit) out.shift();
    if (m.info.pending === 0) break;
  }
  return out;
}
