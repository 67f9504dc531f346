import {
  DeliverPolicy,
  jetstreamManager,
  type ConsumerConfig,
  type JetStreamManager,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Sql } from '../db/index.js';
import {
  LIVE,
  createShadow,
  dropShadow,
  finishShadow,
  previousExists,
  shadowSchema,
  seedShadow,
  swapIn,
} from '../db/index.js';
import { SluiceError } from '../errors/index.js';
import { announceReplay } from '../output/index.js';
import type { Logger } from '../logger.js';
import { streamName } from '../topology/index.js';
import { drive, type ReplaySettings } from './drive.js';
import { ReplayDurables } from './durables.js';
import { retryWhileBusy, withReplayLock } from './lock.js';
import { eventsApplied, summarize, type ReplayProgress } from './progress.js';
import { rollBack } from './rollback.js';
import { ReplayStates } from './state.js';
import type { StreamProgress } from './tables.js';
import { replayTarget, type Replayable, type ReplayTarget } from './targets.js';

export { replayDurable } from './durables.js';
export type { ReplayProgress } from './progress.js';

export interface ReplayOptions {
  /** Start at this sequence of the primary stream (others: at its time). Default: the beginning. */
  fromSeq?: number;
  /** Start at this time in every stream. */
  since?: Date;
  /** Continue an interrupted replay instead of starting afresh. */
  resume?: boolean;
  /** Drop the tables an earlier replay kept, when swapping. */
  replacePrevious?: boolean;
  onProgress?: (p: ReplayProgress) => void;
}

export interface ReplayResult {
  projection: Replayable;
  events: number;
  seconds: number;
  eventsPerSecond: number;
  /** Seconds of each phase of this run (a resumed run lacks the ones it skipped). */
  phases: { load?: number; indexes?: number; swap?: number; catchUp: number };
}

/** Statuses a replay can be resumed from: interrupted ones. */
const RESUMABLE = ['running', 'swapped', 'cancelling', 'cancelled', 'failed'];

/** Failures that are about starting, not about a replay that ran: they leave its row alone. */
const REFUSALS = ['REPLAY_RUNNING', 'REPLAY_PREVIOUS_EXISTS', 'REPLAY_NOT_RESUMABLE'];

/**
 * Rebuilds a projection from its streams: the live handlers, writing to shadow tables,
 * fed by durable consumers of their own (so a crashed replay resumes where it was),
 * until they reach the streams' ends; then the shadow tables' indexes are built, the
 * tables swapped in atomically, and the messages that arrived meanwhile applied to
 * them too (projections are idempotent, so applying one twice is harmless).
 *
 * A state machine on the stored phase (replay/tables.ts): load → catch-up → done.
 * The parts: state.ts (the replays row), durables.ts, progress.ts, lock.ts,
 * rollback.ts, drive.ts (the consumers until the stops).
 */
export class Replayer {
  private readonly states: ReplayStates;

  constructor(
    private readonly o: { nc: NatsConnection; sql: Sql; config: ReplaySettings; logger: Logger },
  ) {
    this.states = new ReplayStates(o.sql);
  }

  async run(name: Replayable, opts: ReplayOptions = {}): Promise<ReplayResult> {
    const { sql, nc, config } = this.o;
    const log = this.o.logger.child({ module: 'replay', projection: name });
    const target = replayTarget(name, sql, nc, config.namespace);
    return withReplayLock(sql, name, `a replay of ${name} is already running`, () =>
      this.runLocked(name, opts, target, log),
    );
  }

  private async runLocked(
    name: Replayable,
    opts: ReplayOptions,
    target: ReplayTarget,
    log: Logger,
  ): Promise<ReplayResult> {
    const { sql } = this.o;
    try {
      const jsm = await jetstreamManager(this.o.nc);
      const durables = this.durables(jsm, target);
      const started = Date.now();
      let row = await this.states.read(name);
      if (opts.resume) {
        if (!row || !RESUMABLE.includes(row.status) || !(await durables.allExist())) {
          throw new SluiceError(
            'REPLAY_NOT_RESUMABLE',
            `no interrupted replay of ${name} to resume`,
          );
        }
        log.info({ from: row.status, phase: row.phase }, 'resuming replay');
      } else {
        if (!opts.replacePrevious && (await previousExists(sql, name, target.tables))) {
          throw new SluiceError(
            'REPLAY_PREVIOUS_EXISTS',
            `tables kept from the previous replay of ${name} exist (schema sluice_prev_${name})`,
          );
        }
        row = await this.begin(jsm, durables, target, opts);
        log.info({ streams: row.streams }, 'replay started');
      }

      const phases: ReplayResult['phases'] = { catchUp: 0 };
      let t = performance.now();
      const lap = (): number => {
        const now = performance.now();
        const seconds = (now - t) / 1000;
        t = now;
        return Math.round(seconds * 100) / 100;
      };
      const driving = { ...this.o, states: this.states, durables, log };
      // The state machine: each phase's work, then the next phase (stored by the work).
      for (let phase = row.phase; ;) {
        switch (phase) {
          case 'load': {
            await this.states.setStatus(name, 'running');
            const completed = await drive(driving, target, shadowSchema(name), opts.onProgress);
            if (!completed) return this.cancelled(name, started);
            phases.load = lap();
            log.info({ seconds: phases.load }, 'replayed: building indexes');
            await target.beforeIndexes?.(shadowSchema(name));
            await finishShadow(
              sql,
              name,
              target.tables,
              (await target.extraIndexes?.(shadowSchema(name))) ?? [],
            );
            phases.indexes = lap();
            // The phase moves on in the swap's own transaction.
            await retryWhileBusy(
              () =>
                swapIn(sql, name, target.tables, opts.replacePrevious ?? false, (tx) =>
                  this.states.enterCatchUp(name, tx),
                ),
              (attempt) =>
                log.warn({ attempt }, 'live tables busy: the swap waits and tries again'),
            );
            phases.swap = lap();
            log.info({ indexes: phases.indexes, swap: phases.swap }, 'swapped in');
            phase = 'catch-up';
            break;
          }
          case 'catch-up': {
            await this.states.enterCatchUp(name);
            // Messages handled live meanwhile went to the old tables: apply them to the new ones.
            await this.resetStops(durables, target);
            const completed = await drive(driving, target, LIVE, opts.onProgress);
            if (!completed) return this.cancelled(name, started);
            phases.catchUp = lap();
            await durables.deleteAll();
            phase = 'done';
            break;
          }
          case 'done':
            return await this.finish(name, started, phases, log);
        }
      }
    } catch (err) {
      if (!(err instanceof SluiceError && REFUSALS.includes(err.code))) {
        await this.states.failed(name, String((err as Error).message)).catch(() => {});
        await announceReplay(sql, 'replay.failed', {
          projection: name,
          error: String((err as Error).message).slice(0, 500),
        }).catch(() => {});
      }
      throw err;
    }
  }

  /** Caught up: the replay is done. */
  private async finish(
    name: Replayable,
    started: number,
    phases: ReplayResult['phases'],
    log: Logger,
  ): Promise<ReplayResult> {
    const events = eventsApplied((await this.states.read(name))!.streams);
    const seconds = (Date.now() - started) / 1000;
    await this.states.done(name, true);
    log.info({ events, seconds, phases }, 'replay done');
    await announceReplay(this.o.sql, 'replay.completed', {
      projection: name,
      events,
      seconds,
    }).catch((err: unknown) => log.warn({ err }, 'replay webhooks not enqueued'));
    return {
      projection: name,
      events,
      seconds,
      eventsPerSecond: Math.round(events / Math.max(seconds, 0.001)),
      phases,
    };
  }

  /** See rollback.ts. */
  async rollback(name: Replayable): Promise<{ reapplied: number }> {
    const { sql, nc, config } = this.o;
    const log = this.o.logger.child({ module: 'replay', projection: name });
    const target = replayTarget(name, sql, nc, config.namespace);
    return withReplayLock(
      sql,
      name,
      `a replay of ${name} is running; roll back after it`,
      async () => {
        const durables = this.durables(await jetstreamManager(nc), target);
        const driving = { ...this.o, states: this.states, durables, log };
        return rollBack(
          {
            sql,
            states: this.states,
            durables,
            ackWaitSeconds: config.ackWait,
            log,
            catchUp: () => drive(driving, target, LIVE),
          },
          target,
        );
      },
    );
  }

  /** Asks a running replay (in any process) to stop; its shadow tables stay for --resume. */
  cancel(name: Replayable): Promise<boolean> {
    return this.states.cancel(name);
  }

  /** Cancels if needed and removes an unfinished replay's shadow tables and durables. */
  async abandon(name: Replayable): Promise<void> {
    const target = replayTarget(name, this.o.sql, this.o.nc, this.o.config.namespace);
    await this.durables(await jetstreamManager(this.o.nc), target).deleteAll();
    await dropShadow(this.o.sql, name);
    await this.states.abandoned(name);
  }

  async progress(name: Replayable): Promise<ReplayProgress | undefined> {
    const row = await this.states.read(name);
    return row ? summarize(name, row.status, row.streams, row.eventsPerSecond ?? 0) : undefined;
  }

  private durables(jsm: JetStreamManager, target: ReplayTarget): ReplayDurables {
    return new ReplayDurables(jsm, this.o.config.namespace, target.name, target.streams);
  }

  private async cancelled(name: Replayable, started: number): Promise<ReplayResult> {
    await this.states.setStatus(name, 'cancelled');
    this.o.logger.info({ projection: name }, 'replay cancelled; --resume continues it');
    return {
      projection: name,
      events: 0,
      seconds: (Date.now() - started) / 1000,
      eventsPerSecond: 0,
      phases: { catchUp: 0 },
    };
  }

  /** A fresh replay: shadow tables, a durable per stream at the start point, the stop points. */
  private async begin(
    jsm: JetStreamManager,
    durables: ReplayDurables,
    target: ReplayTarget,
    opts: ReplayOptions,
  ) {
    const ns = this.o.config.namespace;
    await createShadow(this.o.sql, target.name, target.tables);
    // From a point: the shadow starts as a copy of the live rows, and the events from the
    // point are applied over it; otherwise it would hold only those events.
    if (opts.fromSeq !== undefined || opts.since !== undefined)
      await seedShadow(this.o.sql, target.name, target.tables);
    let since = opts.since;
    if (opts.fromSeq !== undefined) {
      const m = await jsm.streams
        .getMessage(streamName(ns, target.streams[0]!), { seq: opts.fromSeq })
        .catch(() => null);
      if (m && target.streams.length > 1) since = m.time;
    }
    const streams: Record<string, StreamProgress> = {};
    for (const [i, s] of target.streams.entries()) {
      // The stop point, read before the durable: what arrives after it is the catch-up's.
      const { first, last: stop } = await durables.range(s);
      const fromSeq = i === 0 ? opts.fromSeq : undefined;
      const start: Partial<ConsumerConfig> =
        fromSeq !== undefined
          ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: fromSeq }
          : since !== undefined
            ? { deliver_policy: DeliverPolicy.StartTime, opt_start_time: since.toISOString() }
            : { deliver_policy: DeliverPolicy.All };
      const c = await durables.create(s, {
        description: `Sluice replay of ${target.name}`,
        ackWaitSeconds: this.o.config.ackWait,
        start,
      });
      // Where the durable starts, from the stream's own sequences where the policy names
      // one; only a start time needs the consumer's count of what is pending.
      const from =
        fromSeq !== undefined
          ? Math.max(first, fromSeq)
          : since !== undefined
            ? Math.max(first, stop - c.num_pending + 1)
            : first;
      streams[s] = { start: Math.max(1, from), stop, applied: Math.max(0, from - 1) };
    }
    return this.states.begin(target.name, opts, streams);
  }

  /** After the swap: the streams' ends now are the new stop points. */
  private async resetStops(durables: ReplayDurables, target: ReplayTarget): Promise<void> {
    const row = (await this.states.read(target.name))!;
    for (const s of target.streams)
      row.streams[s] = { ...row.streams[s]!, stop: await durables.lastSeq(s) };
    await this.states.saveStreams(target.name, row.streams);
  }
}
