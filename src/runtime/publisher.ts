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

export interface PipelinePublisherOptions {
  nc: NatsConnection;
  /** CloudEvents source of what this role writes, e.g. urn:sluice:chunker. */
  source: string;
  /** How long one publish retries through elections and restarts. @defaultValue 30_000 */
  retryDeadlineMs?: number;
}

/**
 * Publishes pipeline events (binary mode) and raw messages with a message id, retrying
 * with the same id through transient failures. Roles ack their input only after what
 * they derived from it is stored, and a redelivered input re-publishes under the same
 * ids, which the stream drops as duplicates.
 */
export class PipelinePublisher {
  private readonly js: JetStreamClient;
  readonly deadlineMs: number;

  constructor(private readonly o: PipelinePublisherOptions) {
    this.js = jetstream(o.nc);
    this.deadlineMs = o.retryDeadlineMs ?? 30_000;
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
    try {
      const ack = await retryUntil(
        () =>
          this.js.publish(subject, payload, {
            msgID: msgId,
            ...(headers ? { headers } : {}),
            timeout: 5_000,
          }),
        {
          deadline: Date.now() + this.deadlineMs,
          isTransient: (err) => !this.o.nc.isClosed() && isTransientPublishError(err),
          backoff: (attempt) => backoffDelay(attempt),
        },
      );
      return ack.seq;
    } catch (err) {
      throw new SluiceError(
        'PUBLISH_FAILED',
        `could not publish to ${subject}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }
}
