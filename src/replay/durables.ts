import {
  AckPolicy,
  type ConsumerConfig,
  type ConsumerInfo,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { whileNatsRecovers } from '../nats/index.js';
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
}
