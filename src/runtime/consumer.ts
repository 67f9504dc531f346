import { jetstream, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { MsgHdrs, NatsConnection } from '@nats-io/transport-node';
import { context, type Context, type Span } from '@opentelemetry/api';
import type { Logger } from '../logger.js';
import { whileNatsRecovers } from '../nats/index.js';
import { batchSeconds, failuresTotal, handlerTimeoutsTotal, messagesTotal } from '../metrics.js';
import { Subjects, retryDurable, streamName, type StreamKey } from '../topology/index.js';
import { SluiceError } from '../errors/index.js';
import { endSpan, processSpan } from '../tracing/index.js';
import { dependencyOf, type Breakers } from './breakers.js';
import { classify, isOutage, type Failure } from './classify.js';
import {
  appendHistory,
  letterHeaders,
  readLetter,
  type AttemptRecord,
  type Letter,
} from './letter.js';
import type { PipelinePublisher } from './publisher.js';
import { decide, defaultRetryPolicy, type RetryPolicy } from './retry-decision.js';
import { Semaphore } from './semaphore.js';

export { defaultRetryPolicy, type RetryPolicy } from './retry-decision.js';

/** One message as a handler sees it, wherever it came from (its stream or the retry stream). */
export interface Delivery {
  /** The original subject, stream and sequence, also for a parked message. */
  subject: string;
  stream: string;
  seq: number;
  headers: MsgHdrs | undefined;
  data: Uint8Array;
  /** 1 on the first attempt; counts quick redeliveries and parked attempts. */
  attempt: number;
  source: 'stream' | 'retry';
  /** Times a dead letter of this message was redriven. */
  generation: number;
  history: AttemptRecord[];
  msg: JsMsg;
  /** This delivery's CONSUMER span (a no-op when tracing is off); ended once it is settled. */
  span: Span;
  /** The trace context of this delivery: what it publishes continues it (see inDelivery). */
  trace: Context;
}

/** Runs `fn` in the delivery's trace context, so that what it publishes or logs belongs to it. */
export function inDelivery<T>(d: Delivery, fn: () => T): T {
  return context.with(d.trace, fn);
}

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

const jitter = (ms: number): number => Math.round(ms * (0.8 + Math.random() * 0.4));

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
 */
export class DurableConsumer {
  private readonly log: Logger;
  private readonly retry: RetryPolicy;
  private readonly subjects: Subjects;
  private readonly slots: Semaphore;
  private readonly iterators: ConsumerMessages[] = [];
  private readonly pumps: Promise<void>[] = [];
  private readonly running = new Set<Promise<void>>();
  /** Quick-retry history, which nak() cannot carry: stream:seq → attempts. Bounded. */
  private readonly quickHistory = new Map<string, AttemptRecord[]>();
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
  }

  /** Until no breaker is open, or this consumer stops. */
  private waitForDependencies(): Promise<void> {
    const b = this.deps.breakers;
    return b?.anyOpen ? Promise.race([b.waitClosed(), this.stopped]) : Promise.resolve();
  }

  private get batchSize(): number {
    return this.spec.batchSize ?? 32;
  }

  async start(): Promise<void> {
    const js = jetstream(this.deps.nc);
    // Messages pulled ahead of the buffer: one batch. What waits in the client's pull
    // buffer is not kept alive, so it must be little (the pump's own buffer is).
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
      this.pumps.push(this.pump(messages, source));
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

  /**
   * Reads messages into a buffer and forms batches only when a slot is free, so that a
   * batch grows while the previous ones run (up to batchSize, or what arrived within
   * batchWaitMs once a slot was free). The buffer is bounded: reading stops when it
   * holds two batches.
   */
  private async pump(messages: ConsumerMessages, source: 'stream' | 'retry'): Promise<void> {
    const pending: JsMsg[] = [];
    let ended = false;
    let arrived: (() => void) | undefined;
    let room: (() => void) | undefined;
    const notify = (): void => {
      const f = arrived;
      arrived = undefined;
      f?.();
    };
    const nextArrival = (ms: number): Promise<void> =>
      new Promise<void>((resolve) => {
        const t = setTimeout(resolve, ms);
        arrived = () => {
          clearTimeout(t);
          resolve();
        };
      });
    // Buffered messages are kept alive like running ones: a slow batch (or a pause for
    // an outage) must not make them expire and come back as duplicates.
    const keepAlive = setInterval(
      () => pending.forEach((m) => m.working()),
      Math.max(1000, (this.deps.ackWaitMs ?? 30_000) / 3),
    );
    const scheduler = (async () => {
      for (;;) {
        if (pending.length === 0) {
          if (ended) return;
          await nextArrival(60_000);
          continue;
        }
        // While a dependency is down, no new batch starts.
        await this.waitForDependencies();
        await this.slots.acquire();
        const deadline = Date.now() + (this.spec.batchWaitMs ?? 10);
        while (pending.length < this.batchSize && !ended && Date.now() < deadline)
          await nextArrival(deadline - Date.now());
        const batch = pending.splice(0, this.batchSize);
        const r = room;
        room = undefined;
        r?.();
        if (batch.length === 0) this.slots.release();
        else this.launch(batch, source);
      }
    })();
    try {
      for await (const m of messages) {
        if (this.stopping) {
          m.nak();
          continue;
        }
        pending.push(m);
        notify();
        if (pending.length >= this.batchSize * 2) await new Promise<void>((r) => (room = r));
      }
    } catch (err) {
      if (!this.stopping) this.log.error({ err }, 'consumer stopped pulling');
    }
    ended = true;
    notify();
    await scheduler;
    clearInterval(keepAlive);
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
    for (const m of msgs) {
      const d = this.toDelivery(m, source, now);
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
          this.settle(d, {
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

    const ackWait = this.deps.ackWaitMs ?? 30_000;
    const keepAlive = setInterval(
      () => deliveries.forEach((d) => d.msg.working()),
      Math.max(1000, ackWait / 3),
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
            d.msg.ack();
            endSpan(d.span);
            this.quickHistory.delete(`${d.stream}:${d.seq}`);
            messagesTotal.inc({ consumer: this.spec.durable, outcome: 'ok' });
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
          settling.push(inDelivery(d, () => this.settle(d, f)));
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

  /**
   * runIsolating, bounded by the stage's handler timeout: a handler that hangs fails its
   * batch with HANDLER_TIMEOUT (retried like any transient failure) instead of being kept
   * alive for ever. The hung call is abandoned, not cancelled: handlers are idempotent.
   */
  private async runTimed(ds: Delivery[]): Promise<unknown[]> {
    const ms = this.deps.handlerTimeoutMs ?? 300_000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<unknown[]>((resolve) => {
      timer = setTimeout(() => {
        handlerTimeoutsTotal.inc({ consumer: this.spec.durable });
        this.log.warn({ batch: ds.length, timeoutMs: ms }, 'handler timed out');
        const err = new SluiceError(
          'HANDLER_TIMEOUT',
          `the ${this.spec.durable} stage worked on this batch for more than ${ms} ms`,
        );
        resolve(ds.map(() => err));
      }, ms);
    });
    try {
      return await Promise.race([this.runIsolating(ds), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Runs the handler. A batch that fails as a whole, for any reason but an outage, is
   * split in halves until the failing messages stand alone: one bad message costs its
   * batch a few extra runs, and its neighbours (other tenants' included) go through.
   * Handlers are idempotent, so running a message's half again is harmless.
   */
  private async runIsolating(ds: Delivery[]): Promise<unknown[]> {
    try {
      return (await this.spec.handler(ds)) ?? [];
    } catch (err) {
      if (ds.length === 1 || isOutage(classify(err))) return ds.map(() => err);
      const mid = Math.ceil(ds.length / 2);
      const halves = [ds.slice(0, mid), ds.slice(mid)];
      const out: unknown[] = [];
      for (const half of halves) {
        const r = await this.runIsolating(half);
        for (let i = 0; i < half.length; i++) out.push(r[i]);
      }
      return out;
    }
  }

  private toDelivery(
    m: JsMsg,
    source: 'stream' | 'retry',
    now: number,
  ): Delivery | 'later' | undefined {
    if (source === 'stream') {
      return this.traced({
        subject: m.subject,
        stream: m.info.stream,
        seq: m.seq,
        headers: m.headers,
        data: m.data,
        attempt: m.info.deliveryCount,
        source,
        generation: 0,
        history: this.quickHistory.get(`${m.info.stream}:${m.seq}`) ?? [],
        msg: m,
      });
    }
    const letter = readLetter(m.headers);
    if (letter === undefined) return undefined;
    if (letter.due !== undefined && letter.due > now + 50) {
      m.nak(letter.due - now);
      return 'later';
    }
    return this.traced({
      subject: letter.subject,
      stream: letter.stream,
      seq: letter.seq,
      headers: m.headers,
      data: m.data,
      // A parked copy is delivered once early (and put back until due, above) and once
      // when due; any delivery past those two came back after a crash or an expired ack
      // wait, and spent an attempt too. (A crash right after a first, late delivery goes
      // uncounted: at most one per parking, so the count still reaches the limit.)
      attempt: letter.attempt + 1 + Math.max(0, m.info.deliveryCount - 2),
      source,
      generation: letter.generation ?? 0,
      history: letter.history,
      msg: m,
    });
  }

  /** Starts the delivery's span, child of the trace its message carries. */
  private traced(d: Omit<Delivery, 'span' | 'trace'>): Delivery {
    const ref = this.subjects.parse(d.subject);
    const { span, context: trace } = processSpan({
      subject: d.subject,
      durable: this.spec.durable,
      headers: d.headers,
      seq: d.seq,
      attempt: d.attempt,
      attributes: {
        'sluice.tenant': ref?.tenant,
        'sluice.collection': ref?.collection,
        'sluice.retry.source': d.source,
      },
    });
    return { ...d, span, trace };
  }

  /** What happens to a failed delivery (see decide()): redelivery, parking, or a dead letter. */
  private async settle(d: Delivery, f: Failure): Promise<void> {
    const consumer = this.spec.durable;
    const key = `${d.stream}:${d.seq}`;
    failuresTotal.inc({ consumer, code: f.code });
    const decision = decide(f, d, this.retry, this.spec.mode ?? 'live');
    const history = appendHistory(d.history, {
      attempt: d.attempt,
      at: new Date().toISOString(),
      code: f.code,
      message: f.message,
    });
    d.span.setAttribute('sluice.retry.decision', decision.action);
    endSpan(d.span, new SluiceError(f.code, f.message));
    if (decision.action === 'skip') {
      d.msg.ack();
      messagesTotal.inc({ consumer, outcome: 'skipped' });
      this.log.warn(
        { seq: d.seq, code: f.code, error: f.message },
        'replay skipped a message that cannot be applied',
      );
      return;
    }
    if (decision.action === 'redeliver') {
      if (this.spec.mode !== 'replay') {
        if (this.quickHistory.size > 10_000)
          this.quickHistory.delete(this.quickHistory.keys().next().value!);
        this.quickHistory.set(key, history);
      }
      d.msg.nak(jitter(decision.delayMs));
      messagesTotal.inc({ consumer, outcome: 'retried' });
      this.log.debug(
        { seq: d.seq, attempt: d.attempt, code: f.code, error: f.message },
        'retrying',
      );
      return;
    }
    this.quickHistory.delete(key);
    const letter: Letter = {
      consumer,
      stream: d.stream,
      subject: d.subject,
      seq: d.seq,
      attempt: d.attempt,
      generation: d.generation,
      history,
    };
    if (decision.action === 'park') {
      const delay = jitter(decision.delayMs);
      await this.deps.publisher.raw(
        this.subjects.retry(consumer),
        d.data,
        letterHeaders(d.headers, { ...letter, due: Date.now() + delay }),
        `retry:${consumer}:${d.stream}:${d.seq}:${d.generation}:${d.attempt}`,
      );
      d.msg.ack();
      messagesTotal.inc({ consumer, outcome: 'parked' });
      this.log.info(
        { seq: d.seq, attempt: d.attempt, code: f.code, dueInMs: delay },
        'parked for a later attempt',
      );
      return;
    }
    await this.deps.publisher.raw(
      this.subjects.dlq(consumer),
      d.data,
      letterHeaders(d.headers, {
        ...letter,
        code: f.code,
        message: f.message,
        failedAt: new Date().toISOString(),
      }),
      // One letter per message and generation (a redrive starts the next): a redelivery
      // of a message whose term was lost must not write a second letter.
      `dlq:${consumer}:${d.stream}:${d.seq}:${d.generation}`,
    );
    if (d.source === 'stream') d.msg.term(`dead-lettered: ${f.code}`);
    else d.msg.ack();
    messagesTotal.inc({ consumer, outcome: 'dead' });
    this.log.warn(
      { seq: d.seq, subject: d.subject, attempt: d.attempt, code: f.code, error: f.message },
      'dead-lettered',
    );
    await this.spec
      .onDeadLetter?.(d, f)
      .catch((err: unknown) => this.log.error({ err }, 'onDeadLetter failed'));
  }
}
