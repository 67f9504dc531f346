import { sql } from 'drizzle-orm';
import { bigint, check, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Where a replay is, stored so that resuming is a switch on it: 'load' fills the shadow
 * tables from the streams, builds their indexes and swaps them in; 'catch-up' applies to
 * the swapped-in tables what arrived meanwhile; 'done' once caught up.
 */
export const replayPhases = ['load', 'catch-up', 'done'] as const;
export type ReplayPhase = (typeof replayPhases)[number];

export interface StreamProgress {
  /** First and last sequence this replay covers; applied: last acknowledged. */
  start: number;
  stop: number;
  applied: number;
}

/**
 * One row per projection: its latest replay, for progress, cancellation and resuming
 * after a crash. A PostgreSQL advisory lock (held by the replaying session) makes sure
 * only one replay of a projection runs at a time.
 */
export const replays = pgTable(
  'replays',
  {
    projection: text('projection').primaryKey(),
    /** running, swapped (catching up after the swap), done, cancelling, cancelled, failed */
    status: text('status').notNull(),
    /** See replayPhases. */
    phase: text('phase').$type<ReplayPhase>().notNull().default('load'),
    fromSeq: bigint('from_seq', { mode: 'number' }),
    since: timestamp('since', { withTimezone: true }),
    streams: jsonb('streams').$type<Record<string, StreamProgress>>().notNull().default({}),
    eventsPerSecond: bigint('events_per_second', { mode: 'number' }),
    owner: text('owner'),
    error: text('error'),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [check('replays_phase_check', sql`${t.phase} IN ('load', 'catch-up', 'done')`)],
);
