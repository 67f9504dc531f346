import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { MsgHdrs, NatsConnection } from '@nats-io/transport-node';
import { context, trace } from '@opentelemetry/api';
import {
  dataschemaOf,
  toBinaryMessage,
  validateEvent,
  type EventData,
  type EventType,
  type FileRef,
  type SluiceEvent,
} from '../../contracts/index.js';
import { SluiceError } from '../../errors/index.js';
import type { Logger } from '../../logger.js';
import { Subjects, bodiesBucket, filesBucket } from '../../topology/index.js';
import { ClaimCheck, claimCheckPrefix } from './claim-check.js';
import { dedupeId } from './dedupe-id.js';
import { publishBatch, type BatchOptions, type BatchSummary } from './publish-batch.js';
import { publishError } from './publish-error.js';
import { backoffDelay, isTransientPublishError } from '../../nats/index.js';
import { retryUntil } from '../../retry-until.js';
import { extractTrace, sendSpan } from '../../tracing/index.js';

export interface ProducerOptions {
  nc: NatsConnection;
  namespace: string;
  logger?: Logger;
  /** Text larger than this (UTF-8 bytes) is claim-checked into the object store. @defaultValue 262_144 */
  claimCheckBytes?: number;
  /** Largest message written to a stream. @defaultValue 1_048_576 */
  maxMessageBytes?: number;
  /** Largest document text accepted at all. @defaultValue 16_777_216 */
  maxDocumentBytes?: number;
  /** Largest raw file putFile accepts (SLUICE_FILE_MAX_BYTES). @defaultValue 67_108_864 */
  maxFileBytes?: number;
  /** How long one publish keeps retrying through timeouts and leader elections. @defaultValue 30_000 */
  retryDeadlineMs?: number;
  /** How long one attempt waits for the stream's ack. @defaultValue 5_000 */
  ackTimeoutMs?: number;
  /** CloudEvents `source` for events built with `event()`. @defaultValue `urn:sluice:producer:<hostname>` */
  source?: string;
}

export interface PublishOptions {
  /**
   * The document version the writer last saw (the event-log sequence of the document's
   * latest event; 0 when it must not exist yet). A different current version fails
   * with VERSION_CONFLICT instead of overwriting a newer write.
   */
  expectedVersion?: number;
}

export interface PublishResult {
  id: string;
  subject: string;
  /** Sequence in the event log: the document's new version. */
  seq: number;
  duplicate: boolean;
}

/**
 * The typed way into Sluice. Validates every event against its contract before it
 * leaves the process, publishes it in CloudEvents binary mode with the event id as
 * JetStream message id (so retries are deduplicated), and retries through timeouts
 * and leader elections until a deadline.
 */
export class Producer {
  private readonly js: JetStreamClient;
  private readonly subjects: Subjects;
  private readonly claimCheck: ClaimCheck;
  private readonly files: ClaimCheck;
  private readonly o: Required<Omit<ProducerOptions, 'logger' | 'nc' | 'namespace'>>;
  /** Publish attempts retried after a transient failure, since this producer was made. */
  retries = 0;

  constructor(private readonly options: ProducerOptions) {
    this.js = jetstream(options.nc);
    this.subjects = new Subjects(options.namespace);
    this.claimCheck = new ClaimCheck(options.nc, bodiesBucket(options.namespace));
    this.files = new ClaimCheck(options.nc, filesBucket(options.namespace), 'FILE_REF_INVALID');
    this.o = {
      claimCheckBytes: options.claimCheckBytes ?? 256 * 1024,
      maxMessageBytes: options.maxMessageBytes ?? 1024 * 1024,
      maxDocumentBytes: options.maxDocumentBytes ?? 16 * 1024 * 1024,
      maxFileBytes: options.maxFileBytes ?? 64 * 1024 * 1024,
      retryDeadlineMs: options.retryDeadlineMs ?? 30_000,
      ackTimeoutMs: options.ackTimeoutMs ?? 5_000,
      source: options.source ?? `urn:sluice:producer:${hostname()}`,
    };
  }

  /** Builds an event of a known type with a fresh id, this producer's source and the current time. */
  event<T extends EventType>(
    type: T,
    data: EventData<T>,
    attrs: { id?: string; traceparent?: string } = {},
  ): SluiceEvent {
    return {
      specversion: '1.0',
      id: attrs.id ?? randomUUID(),
      source: this.o.source,
      type,
      time: new Date().toISOString(),
      ...(attrs.traceparent ? { traceparent: attrs.traceparent } : {}),
      data,
    } as SluiceEvent;
  }

  /**
   * Validates, claim-checks and publishes one event. Rejects with EVENT_INVALID,
   * EVENT_TYPE_UNKNOWN, DOCUMENT_TOO_LARGE or EVENT_TOO_LARGE (nothing was stored),
   * VERSION_CONFLICT, or PUBLISH_FAILED once the retry deadline has passed.
   */
  async publish(input: unknown, options: PublishOptions = {}): Promise<PublishResult> {
    const prepared = this.prepare(input);
    // Only claim-checked events need to wait (for the object store); most go straight on.
    const event = prepared instanceof Promise ? await prepared : prepared;
    const subject = this.subjects.event(event.data);
    const { headers, payload } = toBinaryMessage(event, this.defaults(event));
    if (payload.length > this.o.maxMessageBytes) {
      throw new SluiceError(
        'EVENT_TOO_LARGE',
        `event ${event.id} is ${payload.length} bytes; the limit is ${this.o.maxMessageBytes}`,
        {
          details: { pointer: '/data', size: payload.length, limit: this.o.maxMessageBytes },
        },
      );
    }
    // The span continues the caller's trace or, when there is none, the trace the event
    // names in its own traceparent extension.
    const parent = trace.getSpan(context.active()) ? context.active() : extractTrace(headers);
    return context.with(parent, () =>
      sendSpan(
        headers,
        {
          subject,
          msgId: dedupeId(event),
          bytes: payload.length,
          attributes: {
            'sluice.tenant': event.data.tenant,
            'sluice.collection': event.data.collection,
            'sluice.document.id': event.data.documentId,
            'cloudevents.event_id': event.id,
            'cloudevents.event_type': event.type,
          },
        },
        () => this.send(event, subject, payload, headers, options),
      ),
    );
  }

  private async send(
    event: SluiceEvent,
    subject: string,
    payload: Uint8Array,
    headers: MsgHdrs,
    options: PublishOptions,
  ): Promise<PublishResult> {
    try {
      const ack = await retryUntil(
        () =>
          this.js.publish(subject, payload, {
            msgID: dedupeId(event),
            headers,
            timeout: this.o.ackTimeoutMs,
            ...(options.expectedVersion === undefined
              ? {}
              : { expect: { lastSubjectSequence: options.expectedVersion } }),
          }),
        {
          deadline: Date.now() + this.o.retryDeadlineMs,
          isTransient: (err) => !this.options.nc.isClosed() && isTransientPublishError(err),
          backoff: (attempt) => backoffDelay(attempt),
          onRetry: (err, attempt) => {
            this.retries++;
            this.options.logger?.debug({ err, attempt, id: event.id }, 'publish retry');
          },
        },
      );
      return { id: event.id, subject, seq: ack.seq, duplicate: ack.duplicate };
    } catch (err) {
      throw publishError(err, event, subject, options.expectedVersion);
    }
  }

  /**
   * Publishes many events with at most `maxInFlight` awaiting their ack: memory stays
   * bounded however long the input is, and a slow server slows the reader down.
   * Each event gets its own result; one bad event never stops the others.
   */
  publishBatch(
    events: Iterable<unknown> | AsyncIterable<unknown>,
    options: BatchOptions = {},
  ): Promise<BatchSummary> {
    return publishBatch((input) => this.publish(input), events, options);
  }

  /** Validation and enrichment: producers reject bad events before anything is published. */
  private prepare(input: unknown): SluiceEvent | Promise<SluiceEvent> {
    const event = validateEvent(input);
    // Claim checks are made here, for texts over the threshold; a reference from outside
    // could point at any body in the bucket and would skip the size limit.
    if (event.type === 'sluice.document.upserted.v1' && event.data.textRef !== undefined) {
      throw new SluiceError(
        'EVENT_INVALID',
        '/data/textRef is set by Sluice when it claim-checks a large text; send the text inline',
        {
          details: {
            pointer: '/data/textRef',
            issues: [{ pointer: '/data/textRef', message: 'is made by Sluice only' }],
          },
        },
      );
    }
    if (event.tenant !== undefined && event.tenant !== event.data.tenant) {
      throw new SluiceError(
        'EVENT_INVALID',
        `/tenant '${event.tenant}' does not match /data/tenant '${event.data.tenant}'`,
        {
          details: {
            pointer: '/tenant',
            issues: [{ pointer: '/tenant', message: 'must equal /data/tenant' }],
          },
        },
      );
    }
    if (event.type === 'sluice.document.upserted.v1' && event.data.text !== undefined) {
      const size = Buffer.byteLength(event.data.text, 'utf8');
      if (size > this.o.maxDocumentBytes) {
        throw new SluiceError(
          'DOCUMENT_TOO_LARGE',
          `document text is ${size} bytes; the limit is ${this.o.maxDocumentBytes}`,
          {
            details: { pointer: '/data/text', size, limit: this.o.maxDocumentBytes },
          },
        );
      }
      if (size > this.o.claimCheckBytes) {
        const { text, ...rest } = event.data;
        const name = `${claimCheckPrefix(event.data)}${event.id}`;
        return this.putBody(name, text).then((textRef) => ({
          ...event,
          data: { ...rest, textRef },
        }));
      }
    }
    return event;
  }

  /** Attributes every published event carries, derived from its type and data when absent. */
  private defaults(event: SluiceEvent): Record<string, string> {
    return {
      // Every event carries its time: read models record it, and replays must agree.
      time: new Date().toISOString(),
      dataschema: dataschemaOf(event.type),

      tenant: event.data.tenant,
      subject: `${event.data.collection}/${event.data.documentId}`,
    };
  }

  /**
   * Stores a raw file (PDF, HTML, DOCX, text) in the files bucket under the document's
   * tenant prefix and returns its claim check, for a `sluice.document.file.v1` event.
   * Rejects with FILE_EMPTY or FILE_TOO_LARGE (nothing stored).
   */
  async putFile(
    doc: { tenant: string; collection: string; documentId: string },
    bytes: Uint8Array,
    o: { mediaType?: string; filename?: string } = {},
  ): Promise<FileRef> {
    if (bytes.length === 0) throw new SluiceError('FILE_EMPTY', 'the file has no bytes');
    if (bytes.length > this.o.maxFileBytes)
      throw new SluiceError(
        'FILE_TOO_LARGE',
        `the file is ${bytes.length} bytes; the limit is ${this.o.maxFileBytes} (SLUICE_FILE_MAX_BYTES)`,
        { details: { size: bytes.length, limit: this.o.maxFileBytes } },
      );
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    // Content-addressed under the document: the same bytes again are the same object.
    const name = `${claimCheckPrefix(doc)}${sha256}`;
    const ref = await this.withRetry(name, () => this.files.putBytes(name, bytes));
    return {
      ...ref,
      ...(o.mediaType === undefined ? {} : { mediaType: o.mediaType.slice(0, 255) }),
      ...(o.filename === undefined ? {} : { filename: o.filename.slice(0, 1024) }),
    };
  }

  /** putFile, then publishes the file event for it (the parser turns it into text). */
  async publishFile(
    doc: Omit<EventData<'sluice.document.file.v1'>, 'file'>,
    bytes: Uint8Array,
    o: { mediaType?: string; filename?: string; id?: string } & PublishOptions = {},
  ): Promise<PublishResult> {
    const file = await this.putFile(doc, bytes, o);
    const { expectedVersion } = o;
    return this.publish(
      this.event('sluice.document.file.v1', { ...doc, file }, o.id ? { id: o.id } : {}),
      expectedVersion === undefined ? {} : { expectedVersion },
    );
  }

  private putBody(name: string, text: string): ReturnType<ClaimCheck['put']> {
    return this.withRetry(name, () => this.claimCheck.put(name, text));
  }

  private async withRetry<T>(name: string, put: () => Promise<T>): Promise<T> {
    try {
      return await retryUntil(put, {
        deadline: Date.now() + this.o.retryDeadlineMs,
        isTransient: isTransientPublishError,
        backoff: (attempt) => backoffDelay(attempt),
      });
    } catch (err) {
      throw new SluiceError(
        'PUBLISH_FAILED',
        `could not store the claim-checked ${name}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }
}
