import type { NatsConnection } from '@nats-io/transport-node';
import type { Config } from '../config/index.js';
import type { Logger } from '../logger.js';
import { DurableConsumer } from '../runtime/index.js';
import { runtimeDeps, type RuntimeSettings } from '../runtime/index.js';
import { PipelinePublisher } from '../runtime/index.js';
import { replayDurable, type ReplayDurables } from './durables.js';
import { RateWindow, summarize, type ReplayProgress } from './progress.js';
import type { ReplayStates } from './state.js';
import type { ReplayTarget } from './targets.js';

/** The settings a replay reads: the runtime's, its batch size. */
export type ReplaySettings = RuntimeSettings & Pick<Config, 'replayBatch'>;

/**
 * Runs the target's live handlers, writing to the tables in `schema`, on the replay
 * durables until every stream reached its stop; false if cancelled meanwhile.
 */
export async function drive(
  o: {
    nc: NatsConnection;
    config: ReplaySettings;
    states: ReplayStates;
    durables: ReplayDurables;
    log: Logger;
  },
  target: ReplayTarget,
  schema: string,
  onProgress?: (p: ReplayProgress) => void,
): Promise<boolean> {
  const { config, nc } = o;
  const deps = runtimeDeps(
    config,
    nc,
    o.log,
    new PipelinePublisher({ nc, source: 'urn:sluice:replay' }),
  );
  const consumers = target.streams.map(
    (s) =>
      new DurableConsumer(
        {
          durable: replayDurable(target.name, s),
          stream: s,
          handler: target.handler(s, schema),
          batchSize: config.replayBatch,
          batchWaitMs: 20,
          // Two batches in flight: one decoded and encoded here while the other is in Postgres.
          concurrency: 2,
          mode: 'replay',
        },
        deps,
      ),
  );
  for (const c of consumers) await c.start();
  const window = new RateWindow();
  try {
    for (;;) {
      const row = (await o.states.read(target.name))!;
      if (row.status === 'cancelling') return false;
      let reached = true;
      for (const s of target.streams) {
        const info = await o.durables.info(s);
        const p = row.streams[s]!;
        p.applied = Math.max(p.applied, info.ack_floor.stream_seq);
        if (p.applied < p.stop) reached = false;
      }
      const done = Object.values(row.streams).reduce((n, p) => n + p.applied, 0);
      const rate = window.add(done, Date.now());
      await o.states.saveStreams(target.name, row.streams, Math.round(rate));
      onProgress?.(summarize(target.name, row.status, row.streams, rate));
      if (reached) return true;
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    for (const c of consumers) await c.stop();
  }
}
