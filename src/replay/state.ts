import { hostname } from 'node:os';
import type { Sql } from '../db/index.js';
import type { ReplayPhase, StreamProgress } from './tables.js';

/** A projection's latest replay, as the replays table keeps it. */
export interface ReplayState {
  /** running, swapped, done, cancelling, cancelled, failed: what an operator sees. */
  status: string;
  /** Where it is (see replayPhases): what resuming switches on. */
  phase: ReplayPhase;
  streams: Record<string, StreamProgress>;
  eventsPerSecond: number | null;
}

/** Reads and writes the replays table: the only module that does. */
export class ReplayStates {
  constructor(private readonly sql: Sql) {}

  async read(name: string): Promise<ReplayState | undefined> {
    const [row] = await this.sql<
      {
        status: string;
        phase: ReplayPhase;
        streams: Record<string, StreamProgress>;
        events_per_second: string | null;
      }[]
    >`
      SELECT status, phase, streams, events_per_second FROM replays WHERE projection = ${name}`;
    return (
      row && {
        status: row.status,
        phase: row.phase,
        streams: row.streams,
        eventsPerSecond: row.events_per_second === null ? null : Number(row.events_per_second),
      }
    );
  }

  /** A fresh replay: status running, phase load, the streams' start and stop points. */
  async begin(
    name: string,
    o: { fromSeq?: number; since?: Date },
    streams: Record<string, StreamProgress>,
  ): Promise<ReplayState> {
    await this.sql`
      INSERT INTO replays (projection, status, phase, from_seq, since, streams, owner, started_at, updated_at, finished_at, error)
      VALUES (${name}, 'running', 'load', ${o.fromSeq ?? null}, ${o.since?.toISOString() ?? null}, ${JSON.stringify(streams)}::jsonb,
              ${`${hostname()}:${process.pid}`}, now(), now(), null, null)
      ON CONFLICT (projection) DO UPDATE SET status = 'running', phase = 'load', from_seq = EXCLUDED.from_seq, since = EXCLUDED.since,
        streams = EXCLUDED.streams, owner = EXCLUDED.owner, started_at = now(), updated_at = now(), finished_at = null, error = null`;
    return { status: 'running', phase: 'load', streams, eventsPerSecond: null };
  }

  async setStatus(name: string, status: string): Promise<void> {
    await this
      .sql`UPDATE replays SET status = ${status}, updated_at = now() WHERE projection = ${name}`;
  }

  /**
   * The catch-up phase starts: written in the swap's transaction (`tx`), so the phase
   * says whether the swap happened. A rollback enters it too, with new stop points.
   */
  async enterCatchUp(
    name: string,
    tx: Sql = this.sql,
    streams?: Record<string, StreamProgress>,
  ): Promise<void> {
    await (streams
      ? tx`UPDATE replays SET status = 'swapped', phase = 'catch-up', streams = ${JSON.stringify(streams)}::jsonb, updated_at = now() WHERE projection = ${name}`
      : tx`UPDATE replays SET status = 'swapped', phase = 'catch-up', updated_at = now() WHERE projection = ${name}`);
  }

  async saveStreams(
    name: string,
    streams: Record<string, StreamProgress>,
    eventsPerSecond?: number,
  ): Promise<void> {
    await (eventsPerSecond === undefined
      ? this
          .sql`UPDATE replays SET streams = ${JSON.stringify(streams)}::jsonb, updated_at = now() WHERE projection = ${name}`
      : this.sql`
          UPDATE replays SET streams = ${JSON.stringify(streams)}::jsonb, events_per_second = ${eventsPerSecond}, updated_at = now()
          WHERE projection = ${name}`);
  }

  /** Caught up: done. `finished` also stamps the finishing time (a replay's, not a rollback's). */
  async done(name: string, finished: boolean): Promise<void> {
    await (finished
      ? this
          .sql`UPDATE replays SET status = 'done', phase = 'done', finished_at = now(), updated_at = now(), error = null WHERE projection = ${name}`
      : this
          .sql`UPDATE replays SET status = 'done', phase = 'done', updated_at = now() WHERE projection = ${name}`);
  }

  async failed(name: string, error: string): Promise<void> {
    await this
      .sql`UPDATE replays SET status = 'failed', error = ${error}, updated_at = now() WHERE projection = ${name}`;
  }

  /** Asks a running replay (in any process) to stop; true when one was running. */
  async cancel(name: string): Promise<boolean> {
    const rows = await this.sql`
      UPDATE replays SET status = 'cancelling', updated_at = now() WHERE projection = ${name} AND status IN ('running', 'swapped') RETURNING projection`;
    return rows.length > 0;
  }

  async abandoned(name: string): Promise<void> {
    await this
      .sql`UPDATE replays SET status = 'cancelled', updated_at = now() WHERE projection = ${name} AND status <> 'done'`;
  }
}
