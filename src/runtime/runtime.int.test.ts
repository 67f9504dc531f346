import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { testConfig, withTopology } from '../../test/harness/config.js';
import type { Config } from '../config/index.js';
import { SluiceError } from '../errors/index.js';
import { createLogger } from '../logger.js';
import { Subjects, consumerPair, retryDurable, streamName } from '../topology/index.js';
import { Breakers } from './breakers.js';
import { DurableConsumer, type BatchHandler, type Delivery, type RetryPolicy } from './consumer.js';
import { readLetter } from './letter.js';
import { PipelinePublisher } from './publisher.js';

const fast: RetryPolicy = {
  quickRetries: 2,
  quickBackoffMs: 50,
  parkBackoffMs: 300,
  parkBackoffMaxMs: 1000,
  maxAttempts: 5,
};

async function until(check: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('consumer runtime on a real nats-server', () => {
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let config: Config;
  let cleanup: () => Promise<void>;
  const running: DurableConsumer[] = [];

  beforeAll(async () => {
    nc = await connect({ servers: testConfig().natsUrl });
    jsm = await jetstreamManager(nc);
  });
  afterAll(async () => nc.close());
  afterEach(async () => {
    for (const c of running.splice(0)) await c.stop();
    await cleanup?.();
  });

  const setup = async (ackWaitMs = 30_000): Promise<void> => {
    config = testConfig();
    cleanup = await withTopology(
      nc,
      config,
      consumerPair(config.namespace, 'events', 'worker', [`${config.namespace}.events.>`], {
        ackWaitMs,
      }),
    );
  };
  const start = async (
    handler: BatchHandler,
    opts: {
      ackWaitMs?: number;
      batchSize?: number;
      concurrency?: number;
      breakers?: Breakers;
      handlerTimeoutMs?: number;
    } = {},
  ) => {
    const c = new DurableConsumer(
      {
        durable: 'worker',
        stream: 'events',
        handler,
        batchSize: opts.batchSize ?? 8,
        concurrency: opts.concurrency ?? 1,
      },
      {
        nc,
        namespace: config.namespace,
        logger: createLogger({ level: 'silent' }),
        publisher: new PipelinePublisher({ nc, source: 'urn:test' }),
        retry: fast,
        ackWaitMs: opts.ackWaitMs ?? 30_000,
        ...(opts.breakers ? { breakers: opts.breakers } : {}),
        ...(opts.handlerTimeoutMs ? { handlerTimeoutMs: opts.handlerTimeoutMs } : {}),
      },
    );
    await c.start();
    running.push(c);
    return c;
  };
  const publish = async (n: number): Promise<void> => {
    const js = jetstream(nc);
    for (let i = 0; i < n; i++)
      await js.publish(`${config.namespace}.events.t.c.m${i}`, JSON.stringify({ i }));
  };
  const dead = async () => {
    const info = await jsm.streams.info(streamName(config.namespace, 'dlq'));
    const out = [];
    for (
      let seq = info.state.first_seq;
      seq <= info.state.last_seq && info.state.messages > 0;
      seq++
    ) {
      const m = await jsm.streams.getMessage(streamName(config.namespace, 'dlq'), { seq });
      if (m)
        out.push({
          subject: m.subject,
          letter: readLetter(m.header)!,
          data: m.json<{ i: number }>(),
        });
    }
    return out;
  };
  const body = (d: Delivery): number =>
    (JSON.parse(new TextDecoder().decode(d.data)) as { i: number }).i;

  it('handles batches and acks them', async () => {
    await setup();
    const seen: number[] = [];
    const sizes: number[] = [];
    await start(async (batch) => {
      sizes.push(batch.length);
      seen.push(...batch.map(body));
    });
    await publish(30);
    await until(() => seen.length === 30);
    expect(seen).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(Math.max(...sizes)).toBeLessThanOrEqual(8);
    await until(
      async () =>
        (await jsm.consumers.info(streamName(config.namespace, 'events'), 'worker'))
          .num_ack_pending === 0,
    );
  });

  it('dead-letters a permanent failure on the first attempt, with its reason', async () => {
    await setup();
    let calls = 0;
    await start(async (batch) =>
      batch.map((d) => {
        calls++;
        return body(d) === 1
          ? new SluiceError('EVENT_INVALID', '/data/text is required')
          : undefined;
      }),
    );
    await publish(3);
    await until(async () => (await dead()).length === 1);
    const [letter] = await dead();
    expect(letter!.subject).toBe(new Subjects(config.namespace).dlq('worker'));
    expect(letter!.data).toEqual({ i: 1 });
    expect(letter!.letter).toMatchObject({
      consumer: 'worker',
      stream: streamName(config.namespace, 'events'),
      subject: `${config.namespace}.events.t.c.m1`,
      seq: 2,
      attempt: 1,
      code: 'EVENT_INVALID',
      message: '/data/text is required',
    });
    expect(letter!.letter.history).toHaveLength(1);
    expect(calls).toBe(3);
  });

  it('splits a batch that fails as a whole: the bad message is dead-lettered at once, its neighbours go through', async () => {
    await setup();
    // Published before the consumer starts, so that it takes them as two full batches of 8:
    // published while it runs, a loaded machine delivered them in more, smaller batches.
    await publish(16);
    const done = new Set<number>();
    let runs = 0;
    let runsWithBad = 0;
    await start(
      async (batch) => {
        runs++;
        // As a transaction does: one row PostgreSQL refuses fails the whole batch.
        if (batch.some((d) => body(d) === 5)) {
          runsWithBad++;
          throw Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), {
            code: '22021',
          });
        }
        batch.forEach((d) => done.add(body(d)));
      },
      { batchSize: 8 },
    );
    await until(async () => (await dead()).length === 1 && done.size === 15);
    const [letter] = await dead();
    expect(letter!.data).toEqual({ i: 5 });
    expect(letter!.letter).toMatchObject({ attempt: 1, code: 'DATA_REJECTED' });
    expect(letter!.letter.message).toContain('(22021)');
    expect([...done].sort((a, b) => a - b)).toEqual([...Array(16).keys()].filter((i) => i !== 5));
    // Bisection: the bad message is in one run per halving, whatever the batches were;
    // and a few extra runs for the failing batch, not one per message.
    expect(runsWithBad).toBeLessThanOrEqual(1 + Math.ceil(Math.log2(8)));
    expect(runs).toBeLessThanOrEqual(2 + 2 * Math.ceil(Math.log2(8)) + 1);
  });

  it('does not split a batch that fails because a dependency is down', async () => {
    await setup();
    await publish(8); // waiting before the consumer starts: one batch of 8
    const calls: { size: number; at: number }[] = [];
    await start(
      async (batch) => {
        calls.push({ size: batch.length, at: performance.now() });
        throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      },
      { batchSize: 8 },
    );
    await until(() => calls.length >= 2);
    expect(calls[0]!.size).toBe(8);
    // The next run is the redelivery after the quick backoff (50 ms), not a half at once.
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(40);
  });

  it('retries a transient failure quickly, parks it, and dead-letters it after the last attempt with every attempt recorded', async () => {
    await setup();
    const attempts: { attempt: number; source: string }[] = [];
    await start(async (batch) =>
      batch.map((d) => {
        attempts.push({ attempt: d.attempt, source: d.source });
        return new Error('connect ECONNREFUSED 127.0.0.1:5432');
      }),
    );
    await publish(1);
    await until(async () => (await dead()).length === 1);
    // 1 + 2 quick redeliveries from the stream, then parked attempts 4 and 5 from the retry stream.
    expect(attempts).toEqual([
      { attempt: 1, source: 'stream' },
      { attempt: 2, source: 'stream' },
      { attempt: 3, source: 'stream' },
      { attempt: 4, source: 'retry' },
      { attempt: 5, source: 'retry' },
    ]);
    const [letter] = await dead();
    expect(letter!.letter.code).toBe('HANDLER_FAILED');
    expect(letter!.letter.history.map((h) => h.attempt)).toEqual([1, 2, 3, 4, 5]);
    expect(letter!.letter.seq).toBe(1);
  });

  it('keeps healthy messages flowing while a failing one is parked, and delivers it again when due', async () => {
    await setup();
    const done: number[] = [];
    let failures = 0;
    await start(async (batch) =>
      batch.map((d) => {
        if (body(d) === 0 && failures < 4) {
          failures++;
          return new SluiceError('DB_UNAVAILABLE', 'postgres is down');
        }
        done.push(body(d));
        return undefined;
      }),
    );
    await publish(10);
    await until(() => done.length === 10);
    expect(done.indexOf(0)).toBe(9); // the others did not wait for it
    expect(await dead()).toHaveLength(0);
  });

  it('keeps a parked message across a restart of the consumer', async () => {
    await setup();
    let fail = true;
    const done: number[] = [];
    const first = await start(async (batch) =>
      batch.map((d) => (fail ? new Error('transient') : void done.push(body(d)))),
    );
    await publish(1);
    await until(
      async () =>
        (await jsm.streams.info(streamName(config.namespace, 'retry'))).state.messages === 1,
    );
    await first.stop();
    running.splice(running.indexOf(first), 1);
    fail = false;
    await start(async (batch) => batch.map((d) => void done.push(body(d))));
    await until(() => done.length === 1);
    expect(done).toEqual([0]);
  });

  it('keeps a long batch alive with working() instead of letting it be redelivered', async () => {
    await setup(2_000);
    const deliveries: number[] = [];
    await start(
      async (batch) => {
        deliveries.push(...batch.map((d) => d.attempt));
        await new Promise((r) => setTimeout(r, 5_000));
      },
      { ackWaitMs: 2_000 },
    );
    await publish(1);
    await until(
      async () =>
        (await jsm.consumers.info(streamName(config.namespace, 'events'), 'worker'))
          .num_ack_pending === 0 && deliveries.length > 0,
    );
    expect(deliveries).toEqual([1]);
  }, 30_000);

  it('shares a durable between competing consumers: each message handled once', async () => {
    await setup();
    const a: number[] = [];
    const b: number[] = [];
    await start(async (batch) => void a.push(...batch.map(body)), { batchSize: 1 });
    await start(async (batch) => void b.push(...batch.map(body)), { batchSize: 1 });
    await publish(200);
    await until(() => a.length + b.length === 200);
    expect(new Set([...a, ...b]).size).toBe(200);
    expect(a.length).toBeGreaterThan(0);
    expect(b.length).toBeGreaterThan(0);
  });

  it('holds work through an outage its probe confirms, spending no attempt, and resumes', async () => {
    await setup(3_000);
    let up = false;
    const breakers = new Breakers(
      { postgres: () => (up ? Promise.resolve() : Promise.reject(new Error('down'))) },
      createLogger({ level: 'silent' }),
      { probeIntervalMs: 100 },
    );
    const attempts: number[] = [];
    const done: number[] = [];
    await start(
      async (batch) =>
        batch.map((d) => {
          attempts.push(d.attempt);
          if (!up) return new SluiceError('DB_UNAVAILABLE', 'connect ECONNREFUSED');
          done.push(body(d));
          return undefined;
        }),
      { breakers, ackWaitMs: 3_000 },
    );
    await publish(20);
    // Down for longer than the whole retry schedule and several ack waits.
    await until(() => breakers.anyOpen);
    await new Promise((r) => setTimeout(r, 8_000));
    expect(breakers.open()).toMatchObject([{ dependency: 'postgres' }]);
    const tried = attempts.length;
    expect(tried).toBeLessThanOrEqual(8); // one batch tried once, then held
    up = true;
    await until(() => done.length === 20, 30_000);
    expect(done.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(await dead()).toHaveLength(0);
    // Nothing came back for a second delivery: the held batch and the buffer were kept alive.
    expect(Math.max(...attempts)).toBe(1);
    breakers.close();
  }, 60_000);

  it('treats an "outage" its dependency denies as an ordinary failure', async () => {
    await setup();
    const breakers = new Breakers(
      { postgres: () => Promise.resolve() },
      createLogger({ level: 'silent' }),
    );
    await start(async (batch) => batch.map(() => new SluiceError('DB_UNAVAILABLE', 'odd')), {
      breakers,
    });
    await publish(1);
    await until(async () => (await dead()).length === 1);
    expect((await dead())[0]!.letter.code).toBe('DB_UNAVAILABLE');
    expect(breakers.anyOpen).toBe(false);
    breakers.close();
  });

  it('fails a batch whose handler hangs after the timeout, and does not keep it alive', async () => {
    await setup(2_000);
    let hang = true;
    const done: number[] = [];
    await start(
      async (batch) => {
        if (hang) {
          hang = false;
          return new Promise(() => {}); // never settles
        }
        done.push(...batch.map(body));
      },
      { handlerTimeoutMs: 1_000, ackWaitMs: 2_000 },
    );
    await publish(3);
    await until(() => done.length === 3, 20_000);
    expect(done.sort()).toEqual([0, 1, 2]);
    expect(await dead()).toHaveLength(0);
  });

  it('counts a parked copy that came back unacknowledged (a crash) as a spent attempt', async () => {
    await setup(1_000);
    const first = await start(async (batch) => batch.map(() => new Error('transient')), {
      ackWaitMs: 1_000,
    });
    await publish(1);
    const retry = streamName(config.namespace, 'retry');
    await until(async () => (await jsm.streams.info(retry)).state.messages === 1);
    await first.stop();
    running.splice(running.indexOf(first), 1);
    // A process takes the parked copy twice and dies each time before settling it.
    const js = jetstream(nc);
    const copy = await js.consumers.get(retry, retryDurable('worker'));
    for (let i = 0; i < 2; i++) {
      const m = await copy.next({ expires: 5_000 });
      expect(m).not.toBeNull();
      await new Promise((r) => setTimeout(r, 1_500)); // past the ack wait, unacknowledged
    }
    const attempts: number[] = [];
    await start(
      async (batch) => {
        attempts.push(...batch.map((d) => d.attempt));
      },
      { ackWaitMs: 1_000 },
    );
    await until(() => attempts.length === 1, 20_000);
    // Parked after attempt 3 (two quick retries). Uncounted, the next would be attempt 4;
    // the two crashed deliveries count, less the one early delivery that is free (the
    // first consumer may have had it, and put it back until due, before it stopped).
    expect(attempts[0]).toBeGreaterThanOrEqual(5);
    expect(attempts[0]).toBeLessThanOrEqual(6);
  }, 60_000);

  it('stops promptly while it holds a batch for an outage', async () => {
    await setup();
    const breakers = new Breakers(
      { postgres: () => Promise.reject(new Error('down')) },
      createLogger({ level: 'silent' }),
      { probeIntervalMs: 100 },
    );
    const c = await start(
      async (batch) => batch.map(() => new SluiceError('DB_UNAVAILABLE', 'connect ECONNREFUSED')),
      { breakers },
    );
    await publish(3);
    await until(() => breakers.anyOpen);
    const t0 = Date.now();
    await c.stop();
    running.splice(running.indexOf(c), 1);
    expect(Date.now() - t0).toBeLessThan(5_000);
    breakers.close();
  });
});
