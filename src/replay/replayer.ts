import { hostname } from 'node:os';
import {
  AckPolicy,
  DeliverPolicy,
  jetstreamManager,
  type ConsumerConfig,
  type JetStreamManager,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Config } from '../config/index.js';
import { DurableConsumer } from '../runtime/consumer.js';
import { runtimeDeps } from '../runtime/deps.js';
import { PipelinePublisher } from '../runtime/publisher.js';
import type { Sql } from '../db/index.js';
import {
  LIVE,
  createShadow,
  dropShadow,
  finishShadow,
  previousExists,
  shadowExists,
  shadowSchema,
  rollback as swapBack,
  seedShadow,
  swapIn,
} from '../db/shadow.js';
import { SluiceError } from '../errors/index.js';
import { announceReplay } from '../output/announce.js';
import type { Logger } from '../logger.js';
import { streamName, type StreamKey } from '../topology/index.js';
import type { StreamProgress } from './tables.js';
import { replayTarget, type Replayable, type ReplayTarget } from './targets.js';

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

export interface ReplayProgress {
  projection: Replayable;
  status: string;
  streams: Record<string, StreamProgress>;
  /** 0…1 over all streams. */
  fraction: number;
  eventsPerSecond: number;
  etaSeconds: number | null;
}

export interface ReplayResult {
  projection: Replayable;
  events: number;
  seconds: number;
  eventsPerSecond: number;
  /** Seconds of each phase of this run (a resumed run lacks the ones it skipped). */
  phases: { load?: number; indexes?: number; swap?: number; catchUp: number };
}

export function replayDurable(projection: Replayable, stream: StreamKey): string {
  return `replay-${projection}-${stream}`;
}

const LOCK = (p: Replayable): string => `sluice:replay:${p}`;

/**
 * Rebuilds a projection from its streams: the live handlers, writing to shadow tables,
 * fed by durable consumers of their own (so a crashed replay resumes where it was),
 * until they reach the streams' ends; then the shadow tables' indexes are built, the
 * tables swapped in atomically, and the messages that arrived meanwhile applied to
 * them too (projections are idempotent, so applying one twice is harmless).
 */
export class Replayer {
  constructor(
    private readonly o: { nc: NatsConnection; sql: Sql; config: Config; logger: Logger },
  ) {}

  async run(name: Replayable, opts: ReplayOptions = {}): Promise<ReplayResult> {
    const { sql, nc, config } = this.o;
    const log = this.o.logger.child({ module: 'replay', projection: name });
    const target = replayTarget(name, sql, nc, config.namespace);
    return this.withReplayLock(name, `a replay of ${name} is already running`, () =>
      this.runLocked(name, opts, target, log),
    );
  }

  private async runLocked(
    name: Replayable,
    opts: ReplayOptions,
    target: ReturnType<typeof replayTarget>,
    log: Logger,
  ): Promise<ReplayResult> {
    const { sql, nc, config } = this.o;
    try {
      const jsm = await jetstreamManager(nc);
      const started = Date.now();
      let row = await this.state(name);
      // Before the swap the shadow tables exist; after it, only the catch-up is left.
      let swapped = false;
      if (opts.resume) {
        if (
          !row ||
          !['running', 'swapped', 'cancelling', 'cancelled', 'failed'].includes(row.status) ||
          !(await this.durablesExist(jsm, target))
        ) {
          throw new SluiceError(
            'REPLAY_NOT_RESUMABLE',
            `no interrupted replay of ${name} to resume`,
          );
        }
        swapped = !(await shadowExists(sql, name, target.tables));
        log.info({ from: row.status, swapped }, 'resuming replay');
      } else {
        if (!opts.replacePrevious && (await previousExists(sql, name, target.tables))) {
          throw new SluiceError(
            'REPLAY_PREVIOUS_EXISTS',
            `tables kept from the previous replay of ${name} exist (schema sluice_prev_${name})`,
          );
        }
        row = await this.begin(jsm, target, opts);
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
      if (!swapped) {
        await this.setStatus(name, 'running');
        const completed = await this.drive(jsm, target, shadowSchema(name), opts, log);
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
        await retryWhileBusy(
          () => swapIn(sql, name, target.tables, opts.replacePrevious ?? false),
          log,
        );
        phases.swap = lap();
        log.info({ indexes: phases.indexes, swap: phases.swap }, 'swapped in');
      }
      await this.setStatus(name, 'swapped');
      // Messages handled live meanwhile went to the old tables: apply them to the new ones.
      await this.resetStops(jsm, target);
      const completed = await this.drive(jsm, target, LIVE, opts, log);
      if (!completed) return this.cancelled(name, started);
      phases.catchUp = lap();
      for (const s of target.streams)
        await jsm.consumers
          .delete(streamName(config.namespace, s), replayDurable(name, s))
          .catch(() => false);
      const final = (await this.state(name))!;
      const events = Object.values(final.streams).reduce(
        (n, s) => n + Math.max(0, s.applied - s.start + 1),
        0,
      );
      const seconds = (Date.now() - started) / 1000;
      await sql`UPDATE replays SET status = 'done', finished_at = now(), updated_at = now(), error = null WHERE projection = ${name}`;
      log.info({ events, seconds, phases }, 'replay done');
      await announceReplay(sql, 'replay.completed', { projection: name, events, seconds }).catch(
        (err: unknown) => log.warn({ err }, 'replay webhooks not enqueued'),
      );
      return {
        projection: name,
        events,
        seconds,
        eventsPerSecond: Math.round(events / Math.max(seconds, 0.001)),
        phases,
      };
    } catch (err) {
      if (!(
        err instanceof SluiceError &&
        ['REPLAY_RUNNING', 'REPLAY_PREVIOUS_EXISTS', 'REPLAY_NOT_RESUMABLE'].includes(err.code)
      )) {
        await sql`UPDATE replays SET status = 'failed', error = ${String((err as Error).message)}, updated_at = now() WHERE projection = ${name}`.catch(
          () => {},
        );
        await announceReplay(sql, 'replay.failed', {
          projection: name,
          error: String((err as Error).message).slice(0, 500),
        }).catch(() => {});
      }
      throw err;
    }
  }

  /**
   * Runs `fn` holding the projection's replay lock (a session advisory lock on a
   * connection of its own, so any process sees it); REPLAY_RUNNING when another holds it.
   */
  private async withReplayLock<T>(
    name: Replayable,
    busy: string,
    fn: () => Promise<T>,
  ): Promise<T> {
    const lock = await this.o.sql.reserve();
    try {
      const [{ locked }] =
        (await lock`SELECT pg_try_advisory_lock(hashtext(${LOCK(name)})) AS locked`) as unknown as [
          { locked: boolean },
        ];
      if (!locked) throw new SluiceError('REPLAY_RUNNING', busy);
      return await fn();
    } finally {
      await lock`SELECT pg_advisory_unlock(hashtext(${LOCK(name)}))`.catch(() => {});
      lock.release();
    }
  }

  /**
   * Swaps the tables the last replay replaced back in, then applies to them every event
   * that arrived since that swap (they stopped receiving them then), so the restored
   * tables are current. Rolling back again undoes it the same way. Refused with
   * ROLLBACK_UNAVAILABLE when there is no finished replay with previous tables kept.
   */
  async rollback(name: Replayable): Promise<{ reapplied: number }> {
    const { sql, nc, config } = this.o;
    const log = this.o.logger.child({ module: 'replay', projection: name });
    const target = replayTarget(name, sql, nc, config.namespace);
    return this.withReplayLock(
      name,
      `a replay of ${name} is running; roll back after it`,
      async () => {
        const row = await this.state(name);
        if (!row || row.status !== 'done' || !(await previousExists(sql, name, target.tables)))
          throw new SluiceError(
            'ROLLBACK_UNAVAILABLE',
            `no finished replay of ${name} with its previous tables kept (schema sluice_prev_${name})`,
          );
        await retryWhileBusy(() => swapBack(sql, name, target.tables), log);
        // The restored tables saw every event up to the swap (each stream's stop): apply
        // what came after, from the streams, with the replay durables.
        const jsm = await jetstreamManager(nc);
        const streams: Record<string, StreamProgress> = {};
        for (const s of target.streams) {
          const stream = streamName(config.namespace, s);
          const from = row.streams[s]!.stop + 1;
          await jsm.consumers.delete(stream, replayDurable(name, s)).catch(() => false);
          await jsm.consumers.add(stream, {
            durable_name: replayDurable(name, s),
            description: `Sluice rollback of ${name}`,
            ack_policy: AckPolicy.Explicit,
            ack_wait: config.ackWait * 1_000_000,
            max_ack_pending: 10_000,
            max_deliver: -1,
            deliver_policy: DeliverPolicy.StartSequence,
            opt_start_seq: from,
          });
          const last = (await jsm.streams.info(stream)).state.last_seq;
          streams[s] = { start: from, stop: last, applied: from - 1 };
        }
        await sql`UPDATE replays SET status = 'swapped', streams = ${JSON.stringify(streams)}::jsonb, updated_at = now() WHERE projection = ${name}`;
        await this.drive(jsm, target, LIVE, {}, log);
        for (const s of target.streams)
          await jsm.consumers
            .delete(streamName(config.namespace, s), replayDurable(name, s))
            .catch(() => false);
        // The stops are the new swap point: another rollback re-applies from there.
        await sql`UPDATE replays SET status = 'done', updated_at = now() WHERE projection = ${name}`;
        const reapplied = Object.values(streams).reduce(
          (n, p) => n + Math.max(0, p.stop - p.start + 1),
          0,
        );
        log.info({ reapplied }, 'rolled back; events since the swap re-applied');
        return { reapplied };
      },
    );
  }

  /** Asks a running replay (in any process) to stop; its shadow tables stay for --resume. */
  async cancel(name: Replayable): Promise<boolean> {
    const rows = await this.o.sql`
      UPDATE replays SET status = 'cancelling', updated_at = now() WHERE projection = ${name} AND status IN ('running', 'swapped') RETURNING projection`;
    return rows.length > 0;
  }

  /** Cancels if needed and removes an unfinished replay's shadow tables and durables. */
  async abandon(name: Replayable): Promise<void> {
    const target = replayTarget(name, this.o.sql, this.o.nc, this.o.config.namespace);
    const jsm = await jetstreamManager(this.o.nc);
    for (const s of target.streams)
      await jsm.consumers
        .delete(streamName(this.o.config.namespace, s), replayDurable(name, s))
        .catch(() => false);
    await dropShadow(this.o.sql, name);
    await this.o
      .sql`UPDATE replays SET status = 'cancelled', updated_at = now() WHERE projection = ${name} AND status <> 'done'`;
  }

  async progress(name: Replayable): Promise<ReplayProgress | undefined> {
    const row = await this.state(name);
    return row
      ? this.summarize(name, row.status, row.streams, row.eventsPerSecond ?? 0)
      : undefined;
  }

  private summarize(
    projection: Replayable,
    status: string,
    streams: Record<string, StreamProgress>,
    rate: number,
  ): ReplayProgress {
    const total = Object.values(streams).reduce((n, s) => n + Math.max(0, s.stop - s.start + 1), 0);
    const done = Object.values(streams).reduce(
      (n, s) => n + Math.max(0, Math.min(s.applied, s.stop) - s.start + 1),
      0,
    );
    const left = total - done;
    return {
      projection,
      status,
      streams,
      fraction: total === 0 ? 1 : done / total,
      eventsPerSecond: Math.round(rate),
      etaSeconds: rate > 0 ? Math.round(left / rate) : left === 0 ? 0 : null,
    };
  }

  private async state(
    name: Replayable,
  ): Promise<
    | { status: string; streams: Record<string, StreamProgress>; eventsPerSecond: number | null }
    | undefined
  > {
    const [row] = await this.o.sql<
      {
        status: string;
        streams: Record<string, StreamProgress>;
        events_per_second: string | null;
      }[]
    >`
      SELECT status, streams, events_per_second FROM replays WHERE projection = ${name}`;
    return (
      row && {
        status: row.status,
        streams: row.streams,
        eventsPerSecond: row.events_per_second === null ? null : Number(row.events_per_second),
      }
    );
  }

  private async setStatus(name: Replayable, status: string): Promise<void> {
    await this.o
      .sql`UPDATE replays SET status = ${status}, updated_at = now() WHERE projection = ${name}`;
  }

  private async cancelled(name: Replayable, started: number): Promise<ReplayResult> {
    await this.setStatus(name, 'cancelled');
    this.o.logger.info({ projection: name }, 'replay cancelled; --resume continues it');
    return {
      projection: name,
      events: 0,
      seconds: (Date.now() - started) / 1000,
      eventsPerSecond: 0,
      phases: { catchUp: 0 },
    };
  }

  private async durablesExist(jsm: JetStreamManager, target: ReplayTarget): Promise<boolean> {
    for (const s of target.streams) {
      const ok = await jsm.consumers
        .info(streamName(this.o.config.namespace, s), replayDurable(target.name, s))
        .then(
          () => true,
          () => false,
        );
      if (!ok) return false;
    }
    return true;
  }

  /** A fresh replay: shadow tables, a durable per stream at the start point, the stop points. */
  private async begin(jsm: JetStreamManager, target: ReplayTarget, opts: ReplayOptions) {
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
      const stream = streamName(ns, s);
      await jsm.consumers.delete(stream, replayDurable(target.name, s)).catch(() => false);
      const info = await jsm.streams.info(stream);
      const start: Partial<ConsumerConfig> =
        i === 0 && opts.fromSeq !== undefined
          ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: opts.fromSeq }
          : since !== undefined
            ? { deliver_policy: DeliverPolicy.StartTime, opt_start_time: since.toISOString() }
            : { deliver_policy: DeliverPolicy.All };
      const c = await jsm.consumers.add(stream, {
        durable_name: replayDurable(target.name, s),
        description: `Sluice replay of ${target.name}`,
        ack_policy: AckPolicy.Explicit,
        ack_wait: this.o.config.ackWait * 1_000_000,
        max_ack_pending: 10_000,
        max_deliver: -1,
        ...start,
      });
      const stop = info.state.last_seq;
      streams[s] = {
        start: Math.max(1, stop - c.num_pending + 1),
        stop,
        applied: Math.max(0, stop - c.num_pending),
      };
    }
    await this.o.sql`
      INSERT INTO replays (projection, status, from_seq, since, streams, owner, started_at, updated_at, finished_at, error)
      VALUES (${target.name}, 'running', ${opts.fromSeq ?? null}, ${opts.since?.toISOString() ?? null}, ${JSON.stringify(streams)}::jsonb,
              ${`${hostname()}:${process.pid}`}, now(), now(), null, null)
      ON CONFLICT (projection) DO UPDATE SET status = 'running', from_seq = EXCLUDED.from_seq, since = EXCLUDED.since,
        streams = EXCLUDED.streams, owner = EXCLUDED.owner, started_at = now(), updated_at = now(), finished_at = null, error = null`;
    return { status: 'running', streams, eventsPerSecond: null };
  }

  /** After the swap: the streams' ends now are the new stop points. */
  private async resetStops(jsm: JetStreamManager, target: ReplayTarget): Promise<void> {
    const row = (await this.state(target.name))!;
    for (const s of target.streams) {
      const info = await jsm.streams.info(streamName(this.o.config.namespace, s));
      row.streams[s] = { ...row.streams[s]!, stop: info.state.last_seq };
    }
    await this.o
      .sql`UPDATE replays SET streams = ${JSON.stringify(row.streams)}::jsonb, updated_at = now() WHERE projection = ${target.name}`;
  }

  /** Runs the handlers on the replay durables until every stream reached its stop; false if cancelled. */
  private async drive(
    jsm: JetStreamManager,
    target: ReplayTarget,
    schema: string,
    opts: ReplayOptions,
    log: Logger,
  ): Promise<boolean> {
    const { config, nc } = this.o;
    const deps = runtimeDeps(
      config,
      nc,
      log,
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
    const window: { t: number; n: number }[] = [];
    try {
      for (;;) {
        const row = (await this.state(target.name))!;
        if (row.status === 'cancelling') return false;
        let reached = true;
        for (const s of target.streams) {
          const info = await jsm.consumers.info(
            streamName(config.namespace, s),
            replayDurable(target.name, s),
          );
          const p = row.streams[s]!;
          p.applied = Math.max(p.applied, info.ack_floor.stream_seq);
          if (p.applied < p.stop) reached = false;
        }
        const done = Object.values(row.streams).reduce((n, p) => n + p.applied, 0);
        window.push({ t: Date.now(), n: done });
        while (window.length > 20) window.shift();
        const first = window[0]!;
        const rate =
          window.length > 1 ? ((done - first.n) * 1000) / Math.max(1, Date.now() - first.t) : 0;
        await this.o.sql`
          UPDATE replays SET streams = ${JSON.stringify(row.streams)}::jsonb, events_per_second = ${Math.round(rate)}, updated_at = now()
          WHERE projection = ${target.name}`;
        opts.onProgress?.(this.summarize(target.name, row.status, row.streams, rate));
        if (reached) return true;
        await new Promise((r) => setTimeout(r, 250));
      }
    } finally {
      for (const c of consumers) await c.stop();
    }
  }
}

/** Runs a swap again while long queries keep the tables locked (SWAP_BUSY), up to a minute. */
async function retryWhileBusy(swap: () => Promise<void>, log: Logger): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await swap();
    } catch (err) {
      if (!(err instanceof SluiceError && err.code === 'SWAP_BUSY') || attempt >= 12) throw err;
      log.warn({ attempt }, 'live tables busy: the swap waits and tries again');
      await new Promise((r) => setTimeout(r, 5_000));
    }
  }
}
