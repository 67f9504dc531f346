import { randomUUID } from 'node:crypto';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { MsgHdrs, NatsConnection } from '@nats-io/transport-node';
import {
  dataschemaOf,
  toBinaryMessage,
  type PipelineData,
  type PipelineEventType,
} from '../contracts/index.js';
import { SluiceError } from '../errors/index.js';
import { backoffDelay, isTransientPublishError } from '../nats/index.js';
import { retryUntil } from '../retry-until.js';
import { sendSpan } from '../tracing/index.js';
import { publishReachOf, type PublishReach } from './publish-reach.js';

export interface PipelinePublisherOptions {
  nc: NatsConnection;
  /** CloudEvents source of what this role writes, e.g. urn:sluice:chunker. */
  source: string;
  /**
   * How long one publish retries through elections and restarts.
   * @defaultValue the connection's PublishReach deadline (SLUICE_PUBLISH_DEADLINE), else 30_000
   */
  retryDeadlineMs?: number;
}

/**
 * The error a publish ends with. A transient failure that lasted to the deadline (no
 * responders, ack timeouts: NATS or the stream's leader gone) is NATS_UNAVAILABLE, an
 * outage the consumer holds its work through once the NATS probe confirms it; anything
 * else (JetStream refused the message, the connection was closed) is PUBLISH_FAILED.
 */
export function publishFailure(
  subject: string,
  err: unknown,
  /** deadlineMs 0: one attempt, the stream being known unreached. */
  o: { closed: boolean; deadlineMs: number },
): SluiceError {
  const message = err instanceof Error ? err.message : String(err);
  if (!o.closed && isTransientPublishError(err)) {
    const tried = o.deadlineMs > 0 ? `within ${o.deadlineMs} ms` : 'in one attempt';
    return new SluiceError(
      'NATS_UNAVAILABLE',
      `could not publish to ${subject} ${tried}: ${message} (NATS or the stream's leader is unavailable)`,
      { cause: err },
    );
  }
  return new SluiceError('PUBLISH_FAILED', `could not publish to ${subject}: ${message}`, {
    cause: err,
  });
}

/**
 * Publishes pipeline events (binary mode) and raw messages with a message id, retrying
 * with the same id through transient failures. Roles ack their input only after what
 * they derived from it is stored, and a redelivered input re-publishes under the same
 * ids, which the stream drops as duplicates.
 */
export class PipelinePublisher {
  private readonly js: JetStreamClient;
  private readonly reach: PublishReach | undefined;
  readonly deadlineMs: number;

  constructor(private readonly o: PipelinePublisherOptions) {
    this.js = jetstream(o.nc);
    this.reach = publishReachOf(o.nc);
    this.deadlineMs = o.retryDeadlineMs ?? this.reach?.deadlineMs ?? 30_000;
  }

  async event<T extends PipelineEventType>(
    subject: string,
    type: T,
    data: PipelineData<T>,
    msgId: string,
  ): Promise<number> {
    const { headers, payload } = toBinaryMessage(
      {
        specversion: '1.0',
        id: randomUUID(),
        source: this.o.source,
        type,
        time: new Date().toISOString(),
        data,
      },
      { dataschema: dataschemaOf(type) },
    );
    const ref = data as { tenant?: string; collection?: string; documentId?: string };
    return sendSpan(
      headers,
      {
        subject,
        msgId,
        bytes: payload.length,
        attributes: {
          'sluice.tenant': ref.tenant,
          'sluice.collection': ref.collection,
          'sluice.document.id': ref.documentId,
          'cloudevents.event_type': type,
        },
      },
      () => this.raw(subject, payload, headers, msgId),
    );
  }

  /** Publishes bytes as they are (retry and dead-letter copies); returns the stream sequence. */
  async raw(
    subject: string,
    payload: Uint8Array,
    headers: MsgHdrs | undefined,
    msgId: string,
  ): Promise<number> {
    // A stream a publish gave up on less than a deadline ago gets one attempt, not a
    // whole deadline, until a publish reaches it or the NATS probe sees its leader.
    const once = this.reach?.unreachedStream(subject) !== undefined;
    try {
      const ack = await retryUntil(
        () =>
          this.js.publish(subject, payload, {
            msgID: msgId,
            ...(headers ? { headers } : {}),
            timeout: 5_000,
          }),
        {
          deadline: once ? 0 : Date.now() + this.deadlineMs,
          isTransient: (err) => !this.o.nc.isClosed() && isTransientPublishError(err),
          backoff: (attempt) => backoffDelay(attempt),
        },
      );
      this.reach?.reached(subject);
      return ack.seq;
    } catch (err) {
      const failure = publishFailure(subject, err, {
        closed: this.o.nc.isClosed(),
        deadlineMs: once ? 0 : this.deadlineMs,
      });
      if (failure.code === 'NATS_UNAVAILABLE') this.reach?.gaveUp(subject);
      throw failure;
    }
  }
}
