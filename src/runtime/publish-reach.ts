import { jetstreamManager, JetStreamApiError, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { streamName, type StreamKey } from '../topology/index.js';

const streamKeys: readonly StreamKey[] = [
  'events',
  'parsed',
  'chunks',
  'vectors',
  'status',
  'retry',
  'dlq',
];

/** The stream a Sluice subject (`<ns>.<kind>.…`, topology/subjects.ts) is stored in. */
export function streamOfSubject(namespace: string, subject: string): string | undefined {
  const [ns, kind] = subject.split('.', 2);
  if (ns !== namespace || !streamKeys.includes(kind as StreamKey)) return undefined;
  return streamName(namespace, kind as StreamKey);
}

export interface PublishReachOptions {
  /** How long one publish retries through elections and restarts. @defaultValue 30_000 */
  deadlineMs?: number;
  /** The stream a subject is stored in; undefined: not tracked. */
  streamOf: (subject: string) => string | undefined;
  /** How long the probe waits for a stream's info. @defaultValue 1_500 */
  infoTimeoutMs?: number;
}

/**
 * What a process knows of the streams it publishes to: which ones a publish could not
 * reach before its deadline. `nc.flush()` answers while an R1 stream's only node is
 * down (or an R3 stream has lost its quorum), so the NATS probe also asks each of these
 * streams for its leader (`check()`), and the breaker stays open until every one has
 * one. For a deadline after a publish to a stream gave up, a publish to it makes one
 * attempt instead of retrying to its deadline: a batch of documents then fails in one deadline, not one
 * deadline per document, and the consumer holds it.
 *
 * One per NATS connection (`attach`): roles build their PipelinePublishers from the
 * connection alone.
 */
export class PublishReach {
  readonly deadlineMs: number;
  /** Stream name → when a publish to it last gave up. */
  private readonly unreached = new Map<string, number>();
  private jsm: Promise<JetStreamManager> | undefined;

  constructor(private readonly o: PublishReachOptions) {
    this.deadlineMs = o.deadlineMs ?? 30_000;
  }

  /**
   * The stream a subject is stored in, when a publish to it gave up less than a deadline
   * ago. Later than that, a publish tries for a whole deadline again: a process without
   * breakers (the CLI) has no probe to clear the mark.
   */
  unreachedStream(subject: string): string | undefined {
    const stream = this.o.streamOf(subject);
    if (stream === undefined) return undefined;
    const since = this.unreached.get(stream);
    return since !== undefined && Date.now() - since < this.deadlineMs ? stream : undefined;
  }

  /** A publish to `subject` failed with a transient error until its deadline. */
  gaveUp(subject: string): void {
    const stream = this.o.streamOf(subject);
    if (stream !== undefined) this.unreached.set(stream, Date.now());
  }

  /** A publish to `subject` was acknowledged. */
  reached(subject: string): void {
    if (this.unreached.size === 0) return;
    const stream = this.o.streamOf(subject);
    if (stream !== undefined) this.unreached.delete(stream);
  }

  /** Streams publishes could not reach, for logs and tests. */
  get streams(): string[] {
    return [...this.unreached.keys()];
  }

  /**
   * Resolves when every unreached stream has a leader again (and forgets it), rejects
   * naming the first that has none or does not answer. A stream that no longer exists
   * is forgotten: that is no outage.
   */
  async check(nc: NatsConnection): Promise<void> {
    if (this.unreached.size === 0) return;
    const timeout = this.o.infoTimeoutMs ?? 1_500;
    this.jsm ??= jetstreamManager(nc, { timeout, checkAPI: false });
    const jsm = await this.jsm.catch((err: unknown) => {
      this.jsm = undefined;
      throw err;
    });
    for (const stream of [...this.unreached.keys()]) {
      try {
        const info = await jsm.streams.info(stream);
        if (info.cluster && !info.cluster.leader) throw new Error(`stream ${stream} has no leader`);
      } catch (err) {
        if (!(err instanceof JetStreamApiError && err.code === 10059)) {
          throw new Error(`stream ${stream} does not answer: ${(err as Error).message}`, {
            cause: err,
          });
        }
      }
      this.unreached.delete(stream);
    }
  }
}

const byConnection = new WeakMap<NatsConnection, PublishReach>();

/** Makes `reach` the one publishers on `nc` report to and take their deadline from. */
export function attachPublishReach(nc: NatsConnection, reach: PublishReach): void {
  byConnection.set(nc, reach);
}

export function publishReachOf(nc: NatsConnection): PublishReach | undefined {
  return byConnection.get(nc);
}
