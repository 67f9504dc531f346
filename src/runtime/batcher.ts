/** What the batcher needs of a pulled message. */
export interface Pulled {
  /** Resets the message's ack wait. */
  working(): void;
  /** Hands the message back for redelivery. */
  nak(): void;
}

export interface BatcherOptions<M extends Pulled> {
  /** Messages per batch. */
  batchSize: number;
  /** How long a partial batch waits for more messages once a slot is free. */
  batchWaitMs: number;
  /** Between working() calls on buffered messages. */
  keepAliveMs: number;
  /**
   * Resolves when a batch may start (no dependency down, a slot taken). When the batch
   * turns out empty, `release` gives the slot back.
   */
  ready(): Promise<void>;
  release(): void;
  /** Runs a batch in the slot `ready` took, without waiting for it. */
  launch(batch: M[]): void;
  /** True once the consumer stops: what arrives then is handed back with nak(). */
  stopping(): boolean;
  /** The message source failed (not while stopping). */
  onError(err: unknown): void;
}

/**
 * Reads messages into a buffer and forms batches only when a slot is free, so that a
 * batch grows while the previous ones run (up to batchSize, or what arrived within
 * batchWaitMs once a slot was free). The buffer is bounded: reading stops when it
 * holds two batches. Buffered messages are kept alive like running ones: a slow batch
 * (or a pause for an outage) must not make them expire and come back as duplicates.
 * Resolves once the source ends and every buffered message was launched.
 */
export async function pumpBatches<M extends Pulled>(
  messages: AsyncIterable<M>,
  o: BatcherOptions<M>,
): Promise<void> {
  const pending: M[] = [];
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
  const keepAlive = setInterval(() => pending.forEach((m) => m.working()), o.keepAliveMs);
  const scheduler = (async () => {
    for (;;) {
      if (pending.length === 0) {
        if (ended) return;
        await nextArrival(60_000);
        continue;
      }
      await o.ready();
      const deadline = Date.now() + o.batchWaitMs;
      while (pending.length < o.batchSize && !ended && Date.now() < deadline)
        await nextArrival(deadline - Date.now());
      const batch = pending.splice(0, o.batchSize);
      const r = room;
      room = undefined;
      r?.();
      if (batch.length === 0) o.release();
      else o.launch(batch);
    }
  })();
  try {
    for await (const m of messages) {
      if (o.stopping()) {
        m.nak();
        continue;
      }
      pending.push(m);
      notify();
      if (pending.length >= o.batchSize * 2) await new Promise<void>((r) => (room = r));
    }
  } catch (err) {
    if (!o.stopping()) o.onError(err);
  }
  ended = true;
  notify();
  await scheduler;
  clearInterval(keepAlive);
}
