import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type StreamConfig,
} from '@nats-io/jetstream';
import { Subjects } from './subjects.js';

export interface TopologyOptions {
  namespace: string;
  /** 1 on a single server, 3 on a cluster. */
  replicas: number;
  /** Milliseconds; 0 keeps events for ever. */
  eventsMaxAge: number;
  /** Milliseconds; 0 keeps for ever. Applies to chunks and status. */
  streamMaxAge: number;
  /** Bytes per derived stream; 0 is unlimited. */
  streamMaxBytes: number;
  dlqMaxAge: number;
  maxMessageBytes: number;
  duplicateWindow: number;
}

export type StreamKey = 'events' | 'parsed' | 'chunks' | 'vectors' | 'status' | 'retry' | 'dlq';

const ns = (ms: number): number => ms * 1_000_000;

/** Stream names: upper-case namespace + role, e.g. SLUICE_EVENTS. */
export function streamName(namespace: string, key: StreamKey): string {
  return `${namespace.toUpperCase()}_${key.toUpperCase()}`;
}

/** The object store bucket holding claim-checked document bodies. */
export function bodiesBucket(namespace: string): string {
  return `${namespace}_bodies`;
}

/**
 * The object store bucket holding raw files (PDF, HTML, DOCX) as sent, owned by the
 * ingest side: file events carry claim checks into it, and a replay re-parses from it.
 */
export function filesBucket(namespace: string): string {
  return `${namespace}_files`;
}

/** The KV bucket where every running process keeps its heartbeat (see ops/heartbeat.ts). */
export function processesBucket(namespace: string): string {
  return `${namespace}_processes`;
}

export interface DeclaredStream {
  key: StreamKey;
  config: Partial<StreamConfig> & { name: string; subjects: string[] };
}

/**
 * Every stream Sluice needs, declared in one place and created or updated at start.
 *
 * - events: the event log, the source of truth, kept for replay; per-document subjects
 *   give per-document order and optimistic concurrency.
 * - parsed: raw files parsed into text (parser → chunker), derived like chunks.
 * - chunks, vectors, status: derived streams between roles. Vectors are kept like
 *   the log: the index is rebuilt from them without embedding again.
 * - retry: messages parked until their next attempt is due (work queue: each is
 *   consumed once, by the retrier of the durable that parked it).
 * - dlq: dead letters, kept until redriven or expired.
 */
export function declareStreams(o: TopologyOptions): DeclaredStream[] {
  const s = new Subjects(o.namespace);
  const common = {
    storage: StorageType.File,
    num_replicas: o.replicas,
    max_msg_size: o.maxMessageBytes,
    duplicate_window: ns(o.duplicateWindow),
    discard: DiscardPolicy.Old,
  } satisfies Partial<StreamConfig>;
  const derived = { ...common, max_age: ns(o.streamMaxAge), max_bytes: o.streamMaxBytes || -1 };
  const stream = (
    key: StreamKey,
    subjects: string[],
    description: string,
    extra: Partial<StreamConfig>,
  ): DeclaredStream => ({
    key,
    config: { name: streamName(o.namespace, key), subjects, description, ...extra },
  });
  return [
    stream('events', [s.all('events')], 'Sluice event log: source of truth, kept for replay', {
      ...common,
      max_age: ns(o.eventsMaxAge),
      deny_delete: true,
    }),
    stream('parsed', [s.all('parsed')], 'Sluice parsed files: parser to chunker', derived),
    stream('chunks', [s.all('chunks')], 'Sluice chunks: chunker to embedders', derived),
    stream(
      'vectors',
      [s.allVectors()],
      'Sluice vectors: embedders to indexer, kept to rebuild the index',
      {
        ...common,
        max_age: 0,
      },
    ),
    stream('status', [s.all('status')], 'Sluice stage reports for the projections', derived),
    stream('retry', [s.all('retry')], 'Sluice messages waiting for their next attempt', {
      ...common,
      retention: RetentionPolicy.Workqueue,
    }),
    // Direct gets let `sluice dlq ls` walk one consumer's letters without a consumer.
    stream('dlq', [s.all('dlq')], 'Sluice dead letters', {
      ...common,
      max_age: ns(o.dlqMaxAge),
      allow_direct: true,
    }),
  ];
}

export interface DeclaredConsumer {
  stream: string;
  config: Partial<ConsumerConfig> & { durable_name: string };
}

export interface ConsumerOptions {
  /** Most messages delivered and not yet acknowledged. @defaultValue 1024 */
  maxAckPending?: number;
  /** How long a delivery may stay unacknowledged before redelivery. @defaultValue 60_000 */
  ackWaitMs?: number;
  description?: string;
}

/** The durable that feeds a consumer's parked messages back to it. */
export function retryDurable(durable: string): string {
  return `${durable}-retry`;
}

/**
 * A role's durable on its stream plus its retry durable on the retry stream (filtered to
 * the subject it parks on). Parked messages wait with nak(delay), so the retry durable
 * may hold many unacknowledged messages.
 */
export function consumerPair(
  namespace: string,
  stream: StreamKey,
  durable: string,
  filterSubjects: string[],
  opts: ConsumerOptions = {},
): DeclaredConsumer[] {
  return [
    durableConsumer(streamName(namespace, stream), durable, filterSubjects, opts),
    durableConsumer(
      streamName(namespace, 'retry'),
      retryDurable(durable),
      [new Subjects(namespace).retry(durable)],
      {
        ...opts,
        maxAckPending: 10_000,
        description: `Sluice ${durable}: parked messages`,
      },
    ),
  ];
}

/**
 * How a consumer's filter is declared: none for the whole stream, `filter_subject` for
 * one, `filter_subjects` only for several. nats-server 2.10 delivers a consumer with
 * `filter_subjects` 60× slower from a stream with many subjects (one per document here;
 * measured 400 against 28,000 messages/s; nats-io/nats-server#4888), and even one
 * wildcard filter costs a third against none.
 */
export function filterConfig(
  filterSubjects: string[],
): Pick<ConsumerConfig, 'filter_subject' | 'filter_subjects'> {
  if (filterSubjects.length === 0) return {};
  if (filterSubjects.length === 1) return { filter_subject: filterSubjects[0] };
  return { filter_subjects: filterSubjects };
}

/**
 * A durable pull consumer as every Sluice role uses it (explicit ack, redelivery managed
 * by the runtime). No filter subjects: the whole stream.
 */
export function durableConsumer(
  stream: string,
  durable: string,
  filterSubjects: string[],
  opts: ConsumerOptions = {},
): DeclaredConsumer {
  return {
    stream,
    config: {
      durable_name: durable,
      description: opts.description ?? `Sluice ${durable}`,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: ns(opts.ackWaitMs ?? 60_000),
      max_ack_pending: opts.maxAckPending ?? 1024,
      // Attempts are counted by the runtime, which parks and dead-letters; the server
      // must never silently stop delivering a message.
      max_deliver: -1,
      ...filterConfig(filterSubjects),
      metadata: { 'sluice.owner': 'sluice' },
    },
  };
}
