import { jetstream, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { MsgHdrs, NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '../../logger.js';
import { batchSeconds, failuresTotal, messagesTotal } from '../../metrics.js';
import { Subjects, retryDurable, streamName, type StreamKey } from '../../topology/index.js';
import { classify, isOutage, type Failure } from './classify.js';
import {
  appendHistory,
  letterHeaders,
  readLetter,
  type AttemptRecord,
  type Letter,
} from './letter.js';
import type { PipelinePublisher } from './publisher.js';
import { Semaphore } from './semaphore.js';

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
}

/**
 * Handles a batch; returns, per delivery, undefined (done) or the error it failed with.
 * Throwing fails the whole batch with that error.
 */
export type BatchHandler = (batch: Delivery[]) => Promise<unknown[] | void>;

export interface RetryPolicy {
  /** Redeliveries through nak(delay) before a message is parked. @defaultValue 3 */
  quickRetries: number;
  /** First quick redelivery delay, doubled each time, with jitter. @defaultValue 500 */
  quickBackoffMs: number;
  /** First parked delay, doubled each time, with jitter. @defaultValue 5_000 */
  parkBackoffMs: number;
  /** @defaultValue 600_000 */
  parkBackoffMaxMs: number;
  /** Attempts in all before a message is dead-lettered. @defaultValue 8 */
  maxAttempts: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  quickRetries: 3,
  quickBackoffMs: 500,
  parkBackoffMs: 5_000,
  parkBackoffMaxMs: 600_000,
  maxAttempts: 8,
};

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
}

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

  constructor(
    readonly spec: ConsumerSpec,
    private readonly deps: RuntimeDeps,
  ) {
    this.log = deps.logger.child({ consumer: spec.durable });
    this.retry = deps.retry ?? defaultRetryPolicy;
    this.subjects = new Subjects(deps.namespace);
    this.slots = new Semaphore(spec.concurrency ?? 1);
  }

  private get batchSize(): number {
    return this.spec.batchSize ?? 32;
  }

  async start(): Promise<void> {
    const js = jetstream(this.deps.nc);
    // Messages pulled ahead: two batches per slot up to 1000, and two batches at least.
    const window = Math.max(
      Math.min(1000, this.batchSize * (this.spec.concurrency ?? 1) * 2),
      this.batchSize * 2,
    );
    const main = await js.consumers.get(
      streamName(this.deps.namespace, this.spec.stream),
      this.spec.durable,
    );

    const sources: [typeof main, 'stream' | 'retry'][] = [[main, 'stream']];
    if (this.spec.mode !== 'replay') {
      sources.push([
        await js.consumers.get(
          streamName(this.deps.namespace, 'retry'),
          retryDurable(this.spec.durable),
        ),
        'retry',
      ]);
    }
    for (const [consumer, source] of sources) {
      const messages = await consumer.consume({ max_messages: window });
      this.iterators.push(messages);
      this.pumps.push(this.pump(messages, source));
    }
    this.log.info({ stream: this.spec.stream }, 'consumer started');
  }

  /** Stops pulling, lets running batches finish and ack, and returns unstarted messages. */
  async stop(): Promise<void> {
    this.stopping = true;
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
    const scheduler = (async () => {
      for (;;) {
        if (pending.length === 0) {
          if (ended) return;
          await nextArrival(60_000);
          continue;
        }
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
        await this.settle(d, {
          code: 'REDELIVERED_TOO_OFTEN',
          message: `delivered ${d.attempt} times without being acknowledged`,
          retryable: true,
        });
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
    let results: unknown[];
    try {
      results = await this.runIsolating(deliveries);
    } finally {
      clearInterval(keepAlive);
      end();
    }
    const settling: Promise<void>[] = [];
    deliveries.forEach((d, i) => {
      const err = results[i];
      if (err !== undefined) {
        settling.push(this.settle(d, classify(err)));
        return;
      }
      d.msg.ack();
      this.quickHistory.delete(`${d.stream}:${d.seq}`);
      messagesTotal.inc({ consumer: this.spec.durable, outcome: 'ok' });
    });
    await Promise.all(settling);
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
      return {
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
      };
    }
    const letter = readLetter(m.headers);
    if (letter === undefined) return undefined;
    if (letter.due !== undefined && letter.due > now + 50) {
      m.nak(letter.due - now);
      return 'later';
    }
    return {
      subject: letter.subject,
      stream: letter.stream,
      seq: letter.seq,
      headers: m.headers,
      data: m.data,
      attempt: letter.attempt + 1,
      source,
      generation: letter.generation ?? 0,
      history: letter.history,
      msg: m,
    };
  }

  /** What happens to a failed delivery: quick redelivery, parking, or the dead-letter stream. */
  private async settle(d: Delivery, f: Failure): Promise<void> {
    const consumer = this.spec.durable;
    failuresTotal.inc({ consumer, code: f.code });
    if (this.spec.mode === 'replay') {
      if (f.retryable) {
        d.msg.nak(
          jitter(Math.min(30_000, this.retry.quickBackoffMs * 2 ** Math.min(10, d.attempt - 1))),
        );
        messagesTotal.inc({ consumer, outcome: 'retried' });
      } else {
        d.msg.ack();
        messagesTotal.inc({ consumer, outcome: 'skipped' });
        this.log.warn(
          { seq: d.seq, code: f.code, error: f.message },
          'replay skipped a message that cannot be applied',
        );
      }
      return;
    }
    const history = appendHistory(d.history, {
      attempt: d.attempt,
      at: new Date().toISOString(),
      code: f.code,
      message: f.message,
    });
    const key = `${d.stream}:${d.seq}`;
    if (f.retryable && d.source === 'stream' && d.attempt <= this.retry.quickRetries) {
      if (this.quickHistory.size > 10_000)
        this.quickHistory.delete(this.quickHistory.keys().next().value!);
      this.quickHistory.set(key, history);
      d.msg.nak(jitter(this.retry.quickBackoffMs * 2 ** (d.attempt - 1)));
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
    if (f.retryable && d.attempt < this.retry.maxAttempts) {
      const parkIndex = Math.max(0, d.attempt - (this.retry.quickRetries + 1));
      const delay = jitter(
        Math.min(this.retry.parkBackoffMaxMs, this.retry.parkBackoffMs * 2 ** parkIndex),
      );
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
      `dlq:${consumer}:${d.stream}:${d.seq}:${d.generation}:${d.attempt}`,
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
