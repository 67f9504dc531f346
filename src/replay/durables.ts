import {
  AckPolicy,
  type ConsumerConfig,
  type ConsumerInfo,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { SluiceError } from '../errors/index.js';
import { sleep, whileNatsRecovers } from '../nats/index.js';
import { streamName, type StreamKey } from '../topology/index.js';

/** The durable a replay (or a rollback) of `projection` reads `stream` with. */
export function replayDurable(projection: string, stream: StreamKey): string {
  return `replay-${projection}-${stream}`;
}

/** The replay durables of one projection, on the streams it reads. */
export class ReplayDurables {
  constructor(
    private readonly jsm: JetStreamManager,
    private readonly namespace: string,
    private readonly projection: string,
    private readonly streams: readonly StreamKey[],
  ) {}

  /**
   * A durable on `stream` from `start`, replacing one left from before. On a cluster, an
   * add can outlast the API's timeout while the consumer's group elects a leader; an add
   * of the same config is idempotent, so it is tried again while NATS recovers.
   */
  async create(
    stream: StreamKey,
    o: { description: string; ackWaitSeconds: number; start: Partial<ConsumerConfig> },
  ): Promise<ConsumerInfo> {
    await this.delete(stream);
    return whileNatsRecovers(() =>
      this.jsm.consumers.add(streamName(this.namespace, stream), {
        durable_name: replayDurable(this.projection, stream),
        description: o.description,
        ack_policy: AckPolicy.Explicit,
        ack_wait: o.ackWaitSeconds * 1_000_000,
        max_ack_pending: 10_000,
        max_deliver: -1,
        ...o.start,
      }),
    );
  }

  async delete(stream: StreamKey): Promise<void> {
    await this.jsm.consumers
      .delete(streamName(this.namespace, stream), replayDurable(this.projection, stream))
      .catch(() => false);
  }

  async deleteAll(): Promise<void> {
    for (const s of this.streams) await this.delete(s);
  }

  async allExist(): Promise<boolean> {
    for (const s of this.streams) {
      const ok = await this.info(s).then(
        () => true,
        () => false,
      );
      if (!ok) return false;
    }
    return true;
  }

  info(stream: StreamKey): Promise<ConsumerInfo> {
    return this.jsm.consumers.info(
      streamName(this.namespace, stream),
      replayDurable(this.projection, stream),
    );
  }

  /** The stream's last sequence now. */
  async lastSeq(stream: StreamKey): Promise<number> {
    return (await this.jsm.streams.info(streamName(this.namespace, stream))).state.last_seq;
  }

  /**
   * The stream's first and last sequences, once none of its replicas that answer is
   * behind its leader. A consumer's leader counts what it will deliver from its own copy of
   * the stream: on a replica still catching up (a node just back from a crash), a new
   * durable reported nothing pending, and a replay read as done before it read anything
   * swapped in empty tables. Up to `deadlineMs`, then NATS_UNAVAILABLE.
   */
  async range(stream: StreamKey, deadlineMs = 120_000): Promise<{ first: number; last: number }> {
    const name = streamName(this.namespace, stream);
    const until = Date.now() + deadlineMs;
    for (;;) {
      const info = await whileNatsRecovers(() => this.jsm.streams.info(name));
      const behind = (info.cluster?.replicas ?? []).filter((r) => !r.offline && !r.current);
      if (behind.length === 0) return { first: info.state.first_seq, last: info.state.last_seq };
      if (Date.now() > until)
        throw new SluiceError(
          'NATS_UNAVAILABLE',
          `replicas of stream ${name} still catching up after ${deadlineMs / 1000} s: ${behind.map((r) => `${r.name} (${r.lag ?? '?'} behind)`).join(', ')}`,
        );
      await sleep(250);
    }
  }
}
