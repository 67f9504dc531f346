import type { ConsumerInfo, JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { readHeartbeats, type Heartbeat } from '../ops/index.js';
import type { Config } from '../config/index.js';
import { DeadLetters } from '../dead-letters/index.js';
import { PipelinePublisher } from '../runtime/index.js';
import { declareTopology } from '../topology/index.js';

export interface DurableStatus {
  durable: string;
  stream: string;
  /** Messages not delivered yet (the backlog). */
  pending: number;
  /** Delivered and not acknowledged yet. */
  ackPending: number;
  /** Delivered more than once and not acknowledged yet. */
  redelivered: number;
  /** Messages the durable settled per second, over the sampling window. */
  rate: number | null;
  /** Seconds to drain the backlog at that rate. */
  etaSeconds: number | null;
  deadLetters: number;
  state: 'ok' | 'missing';
}

export interface ProcessStatus extends Heartbeat {
  /** Seconds since its last heartbeat. */
  lastBeatSeconds: number;
}

export interface PipelineStatus {
  at: string;
  durables: DurableStatus[];
  processes: ProcessStatus[];
}

/** One reading of every declared durable, at a time. */
export interface DurableSample {
  at: number;
  infos: (ConsumerInfo | undefined)[];
}

/**
 * Reads the pipeline's state from JetStream and the processes bucket: every declared
 * durable's counts, its rate between two samples (the acknowledged floor moving), its
 * dead letters, and the live processes. `sluice status` samples twice a couple of
 * seconds apart; the API keeps its previous sample.
 */
export class PipelineStatusReader {
  private readonly declared;
  private readonly letters: DeadLetters;

  constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly config: Pick<Config, 'namespace' | 'models'> &
      Parameters<typeof declareTopology>[0],
    /** The process's dead letters, when it has them already. */
    letters?: DeadLetters,
  ) {
    this.declared = declareTopology(config).consumers;
    this.letters =
      letters ??
      new DeadLetters(
        nc,
        config.namespace,
        new PipelinePublisher({ nc, source: 'urn:sluice:status' }),
      );
  }

  async sample(): Promise<DurableSample> {
    const infos = await Promise.all(
      this.declared.map((c) =>
        this.jsm.consumers.info(c.stream, c.config.durable_name).catch(() => undefined),
      ),
    );
    return { at: Date.now(), infos };
  }

  /** The status now, with rates measured since `previous` (none without one). */
  async read(current: DurableSample, previous?: DurableSample): Promise<PipelineStatus> {
    const depth = await this.letters.depth().catch((): Record<string, number> => ({}));
    const seconds = previous ? (current.at - previous.at) / 1000 : 0;
    const durables = this.declared.map((c, i): DurableStatus => {
      const a = previous?.infos[i];
      const b = current.infos[i];
      const durable = c.config.durable_name;
      if (!b)
        return {
          durable,
          stream: c.stream,
          pending: 0,
          ackPending: 0,
          redelivered: 0,
          rate: null,
          etaSeconds: null,
          deadLetters: depth[durable] ?? 0,
          state: 'missing',
        };
      const rate =
        a && seconds > 0
          ? Math.max(0, b.ack_floor.stream_seq - a.ack_floor.stream_seq) / seconds
          : null;
      const backlog = b.num_pending + b.num_ack_pending;
      return {
        durable,
        stream: c.stream,
        pending: b.num_pending,
        ackPending: b.num_ack_pending,
        redelivered: b.num_redelivered,
        rate: rate === null ? null : Math.round(rate * 10) / 10,
        etaSeconds: backlog === 0 ? 0 : rate ? Math.round(backlog / rate) : null,
        deadLetters: depth[durable] ?? 0,
        state: 'ok',
      };
    });
    const now = Date.now();
    const processes = (await readHeartbeats(this.nc, this.config.namespace)).map((h) => ({
      ...h,
      lastBeatSeconds: Math.max(0, Math.round((now - Date.parse(h.at)) / 100) / 10),
    }));
    return { at: new Date(current.at).toISOString(), durables, processes };
  }
}
