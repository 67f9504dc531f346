import type { Logger } from '../logger.js';
import { failuresTotal, messagesTotal } from '../metrics.js';
import type { Subjects } from '../topology/index.js';
import { SluiceError } from '../errors/index.js';
import { endSpan } from '../tracing/index.js';
import type { Failure } from './classify.js';
import type { Delivery, QuickHistory } from './delivery.js';
import { appendHistory, letterHeaders, type Letter } from './letter.js';
import type { PipelinePublisher } from './publisher.js';
import { decide, type RetryPolicy } from './retry-decision.js';

const jitter = (ms: number): number => Math.round(ms * (0.8 + Math.random() * 0.4));

export interface SettlerOptions {
  durable: string;
  mode: 'live' | 'replay';
  retry: RetryPolicy;
  subjects: Subjects;
  publisher: PipelinePublisher;
  quickHistory: QuickHistory;
  log: Logger;
  /** Called once a message is dead-lettered. */
  onDeadLetter?: (delivery: Delivery, failure: Failure) => Promise<void>;
}

/**
 * Carries out what decide() says of a failed delivery: skip it (replay), redeliver it
 * with nak(delay), park it in the retry stream with a due time, or dead-letter it with
 * its original subject and sequence, the error and the history of attempts.
 */
export class Settler {
  constructor(private readonly o: SettlerOptions) {}

  /** A delivery its handler finished: acked, its span ended, its quick history forgotten. */
  done(d: Delivery): void {
    d.msg.ack();
    endSpan(d.span);
    this.o.quickHistory.delete(d.stream, d.seq);
    messagesTotal.inc({ consumer: this.o.durable, outcome: 'ok' });
  }

  async settle(d: Delivery, f: Failure): Promise<void> {
    const { durable: consumer, log, quickHistory } = this.o;
    failuresTotal.inc({ consumer, code: f.code });
    const decision = decide(f, d, this.o.retry, this.o.mode);
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
      log.warn(
        { seq: d.seq, code: f.code, error: f.message },
        'replay skipped a message that cannot be applied',
      );
      return;
    }
    if (decision.action === 'redeliver') {
      if (this.o.mode !== 'replay') quickHistory.set(d.stream, d.seq, history);
      d.msg.nak(jitter(decision.delayMs));
      messagesTotal.inc({ consumer, outcome: 'retried' });
      log.debug({ seq: d.seq, attempt: d.attempt, code: f.code, error: f.message }, 'retrying');
      return;
    }
    quickHistory.delete(d.stream, d.seq);
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
      await this.o.publisher.raw(
        this.o.subjects.retry(consumer),
        d.data,
        letterHeaders(d.headers, { ...letter, due: Date.now() + delay }),
        `retry:${consumer}:${d.stream}:${d.seq}:${d.generation}:${d.attempt}`,
      );
      d.msg.ack();
      messagesTotal.inc({ consumer, outcome: 'parked' });
      log.info(
        { seq: d.seq, attempt: d.attempt, code: f.code, dueInMs: delay },
        'parked for a later attempt',
      );
      return;
    }
    await this.o.publisher.raw(
      this.o.subjects.dlq(consumer),
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
    log.warn(
      { seq: d.seq, subject: d.subject, attempt: d.attempt, code: f.code, error: f.message },
      'dead-lettered',
    );
    await this.o
      .onDeadLetter?.(d, f)
      .catch((err: unknown) => log.error({ err }, 'onDeadLetter failed'));
  }
}
