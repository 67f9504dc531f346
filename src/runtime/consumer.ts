import { jetstream, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '../logger.js';
import { whileNatsRecovers } from '../nats/index.js';
import { batchSeconds, handlerTimeoutsTotal, messagesTotal } from '../metrics.js';
import { Subjects, retryDurable, streamName, type StreamKey } from '../topology/index.js';
import { SluiceError } from '../errors/index.js';
import { endSpan } from '../tracing/index.js';
import { pumpBatches } from './batcher.js';
import { dependencyOf, type Breakers } from './breakers.js';
import { classify, type Failure } from './classify.js';
import { QuickHistory, inDelivery, toDelivery, type Delivery } from './delivery.js';
import { runTimed } from './isolation.js';
import type { PipelinePublisher } from './publisher.js';
import { defaultRetryPolicy, type RetryPolicy } from './retry-decision.js';
import { Semaphore } from './semaphore.js';
import { Settler } from './settler.js';

export { defaultRetryPolicy, type RetryPolicy } from './retry-decision.js';
export { inDelivery, type Delivery } from './delivery.js';

/**
 * Handles a batch; returns, per delivery, undefined (done) or the error it failed with.
 * Throwing fails the whole batch with that error.
 */
export type BatchHandler = (batch: Delivery[]) => Promise<unknown[] | void>;

export interface ConsumerSpec {
  /** Durable name; its parked messages use `<durable>-retry` on the retry stream. */
  durable: string;
  /** The durable's stream, e.g. 'events'. */
  stream: StreamKey;
  handler: BatchHandler;
  /** Messages per handler call. @defaultValue 32 */
  batchSize?: number;
  /** How long a partial batch waits for more messages. @defaultValue 10 */
  batchWaitMs?: number;
  /** Batches handled at once (1 keeps stream order). @defaultValue 1 */
  concurrency?: number;
  /** Called once a message is dead-lettered (to report a failed stage, say). */
  onDeadLetter?: (delivery: Delivery, failure: Failure) => Promise<void>;
  /**
   * 'replay': no retry durable, nothing parked or dead-lettered. A transient failure is
   * redelivered until it succeeds; a permanent one is skipped (it was dead-lettered
   * when the message was first handled live). @defaultValue 'live'
   */
  mode?: 'live' | 'replay';
}

export interface RuntimeDeps {
  nc: NatsConnection;
  namespace: string;
  logger: Logger;
  publisher: PipelinePublisher;
  retry?: RetryPolicy;
  /** The consumers' ack wait; long batches call working() at a third of it. @defaultValue 30_000 */
  ackWaitMs?: number;
  /** Longest one handler call may take before its batch fails with HANDLER_TIMEOUT. @defaultValue 300_000 */
  handlerTimeoutMs?: number;
  /** The process's circuit breakers; without them an outage spends attempts like any failure. */
  breakers?: Breakers;
}

/** How long one pull request waits at the server; heartbeats come at half that. */
const PULL_EXPIRES_MS = 5_000;

/**
 * A durable pull consumer with the failure handling every role shares:
 *
 * - success acks; a permanent failure (bad payload, schema violation, unknown type)
 *   is dead-lettered at once;
 * - a transient failure is first redelivered quickly with nak(delay) and exponential
 *   backoff, then parked in the retry stream with a due time (so it stops holding an
 *   ack-pending slot and healthy messages keep flowing), then dead-lettered after the
 *   last attempt with its original subject and sequence, the consumer, the error and
 *   the history of attempts. All of this lives in JetStream and survives restarts.
 *
 * Several processes running the same consumer share its durable (competing consumers).
 *
 * The parts: delivery.ts shapes a pulled message into a Delivery, batcher.ts buffers
 * and forms batches, isolation.ts runs the handler (timeout, bisection), settler.ts
 * carries out decide(); this class wires them and holds work through an outage.
 */
export class DurableConsumer {
  private readonly log: Logger;
  private readonly retry: RetryPolicy;
  private readonly subjects: Subjects;
  private readonly slots: Semaphore;
  private readonly settler: Settler;
  private readonly iterators: ConsumerMessages[] = [];
  private readonly pumps: Promise<void>[] = [];
  private readonly running = new Set<Promise<void>>();
  private readonly quickHistory = new QuickHistory();
  private stopping = false;
  /** Resolves when stop() is called: a batch held for an outage stops waiting then. */
  private readonly stopped: Promise<void>;
  private signalStop!: () => void;

  constructor(
    readonly spec: ConsumerSpec,
    private readonly deps: RuntimeDeps,
  ) {
    this.log = deps.logger.child({ consumer: spec.durable });
    this.retry = deps.retry ?? defaultRetryPolicy;
    this.subjects = new Subjects(deps.namespace);
    this.slots = new Semaphore(spec.concurrency ?? 1);
    this.stopped = new Promise<void>((r) => (this.signalStop = r));
    this.settler = new Settler({
      durable: spec.durable,
      mode: spec.mode ?? 'live',
      retry: this.retry,
      subjects: this.subjects,
      publisher: deps.publisher,
      quickHistory: this.quickHistory,
      log: this.log,
      ...(spec.onDeadLetter ? { onDeadLetter: spec.onDeadLetter } : {}),
    });
  }

  /** Until no breaker is open, or this consumer stops. */
  private waitForDependencies(): Promise<void> {
    const b = this.deps.breakers;
    return b?.anyOpen ? Promise.race([b.waitClosed(), this.stopped]) : Promise.resolve();
  }

  private get batchSize(): number {
    return this.spec.batchSize ?? 32;
  }

  private get keepAliveMs(): number {
    return Math.max(1000, (this.deps.ackWaitMs ?? 30_000) / 3);
  }

  async start(): Promise<void> {
    const js = jetstream(this.deps.nc);
    // Messages pulled ahead of the buffer: one batch. What waits in the client's pull
    // buffer is not kept alive, so it must be little (the batcher's own buffer is).
    const window = this.batchSize;
    const main = await whileNatsRecovers(() =>
      js.consumers.get(streamName(this.deps.namespace, this.spec.stream), this.spec.durable),
    );

    const sources: [typeof main, 'stream' | 'retry'][] = [[main, 'stream']];
    if (this.spec.mode !== 'replay') {
      sources.push([
        await whileNatsRecovers(() =>
          js.consumers.get(
            streamName(this.deps.namespace, 'retry'),
            retryDurable(this.spec.durable),
          ),
        ),
        'retry',
      ]);
    }
    for (const [consumer, source] of sources) {
      // Pulls expire after 5 s (heartbeats every 2.5 s): when the consumer's leader moves
      // to another node, a pull sent to the old one is lost, and the client notices only
      // when two heartbeats are missed. With the default 30 s expiry that stalled the
      // stage for 30 s after every leader change (test/cluster-services.e2e.test.ts).
      const messages = await consumer.consume({ max_messages: window, expires: PULL_EXPIRES_MS });
      this.iterators.push(messages);
      this.pumps.push(
        pumpBatches(messages, {
          batchSize: this.batchSize,
          batchWaitMs: this.spec.batchWaitMs ?? 10,
          keepAliveMs: this.keepAliveMs,
          // While a dependency is down, no new batch starts.
          ready: async () => {
            await this.waitForDependencies();
            await this.slots.acquire();
          },
          release: () => this.slots.release(),
          launch: (batch) => this.launch(batch, source),
          stopping: () => this.stopping,
          onError: (err) => this.log.error({ err }, 'consumer stopped pulling'),
        }),
      );
    }
    this.log.info({ stream: this.spec.stream }, 'consumer started');
  }

  /** Stops pulling, lets running batches finish and ack, and returns unstarted messages. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.signalStop();
    for (const it of this.iterators) it.stop();
    await Promise.all(this.pumps);
    await Promise.all(this.running);
    this.log.info('consumer stopped');
  }

  /** Runs a batch in the slot already acquired, without waiting for it. */
  private launch(batch: JsMsg[], source: 'stream' | 'retry'): void {
    const run = this.runBatch(batch, source)
      .catch((err: unknown) =>
        this.log.error(
          { err },
          'batch failed outside the handler; its messages will be redelivered',
        ),
      )
      .finally(() => {
        this.slots.release();
        this.running.delete(run);
      });
    this.running.add(run);
  }

  private async runBatch(msgs: JsMsg[], source: 'stream' | 'retry'): Promise<void> {
    const deliveries: Delivery[] = [];
    const now = Date.now();
    const shaping = {
      durable: this.spec.durable,
      subjects: this.subjects,
      quickHistory: this.quickHistory,
    };
    for (const m of msgs) {
      const d = toDelivery(m, source, now, shaping);
      if (d === 'later') continue;
      if (d === undefined) {
        this.log.warn({ seq: m.seq }, 'message in the retry stream without a letter: dropped');
        m.term('no Sluice letter');
        continue;
      }
      if (
        source === 'stream' &&
        this.spec.mode !== 'replay' &&
        d.attempt > this.retry.quickRetries + 3
      ) {
        // Delivered again and again without our handler ever settling it: the process
        // died or ran past the ack wait each time. Park it instead of looping.
        await inDelivery(d, () =>
          this.settler.settle(d, {
            code: 'REDELIVERED_TOO_OFTEN',
            message: `delivered ${d.attempt} times without being acknowledged`,
            retryable: true,
          }),
        );
        continue;
      }
      deliveries.push(d);
    }
    if (deliveries.length === 0) return;

    const keepAlive = setInterval(
      () => deliveries.forEach((d) => d.msg.working()),
      this.keepAliveMs,
    );
    const end = batchSeconds.startTimer({ consumer: this.spec.durable });
    const settling: Promise<void>[] = [];
    try {
      let todo = deliveries;
      for (;;) {
        const results = await this.runTimed(todo);
        // Failures that an outage explains wait for the dependency, their attempts unspent.
        const held: Delivery[] = [];
        const down = new Map<string, Promise<boolean>>(); // one probe per dependency
        for (const [i, d] of todo.entries()) {
          const err = results[i];
          if (err === undefined) {
            this.settler.done(d);
            continue;
          }
          const f = classify(err);
          const dependency = dependencyOf(f);
          const breakers = this.deps.breakers;
          if (dependency && breakers && !this.stopping) {
            if (!down.has(dependency)) down.set(dependency, breakers.trip(dependency, f.message));
            if (await down.get(dependency)) {
              held.push(d);
              continue;
            }
          }
          settling.push(inDelivery(d, () => this.settler.settle(d, f)));
        }
        if (held.length === 0) break;
        messagesTotal.inc({ consumer: this.spec.durable, outcome: 'held' }, held.length);
        await this.waitForDependencies();
        if (this.stopping) {
          // Stopping: leave them to be redelivered to whoever runs next.
          for (const d of held) {
            d.msg.nak();
            endSpan(d.span, new Error('stopped while a dependency was down: redelivered'));
          }
          break;
        }
        todo = held;
      }
    } finally {
      clearInterval(keepAlive);
      end();
    }
    await Promise.all(settling);
  }

  /** The handler, isolating failures (isolation.ts), bounded by the stage's handler timeout. */
  private runTimed(ds: Delivery[]): Promise<unknown[]> {
    const ms = this.deps.handlerTimeoutMs ?? 300_000;
    return runTimed(this.spec.handler, ds, ms, () => {
      handlerTimeoutsTotal.inc({ consumer: this.spec.durable });
      this.log.warn({ batch: ds.length, timeoutMs: ms }, 'handler timed out');
      return new SluiceError(
        'HANDLER_TIMEOUT',
        `the ${this.spec.durable} stage worked on this batch for more than ${ms} ms`,
      );
    });
  }
}
