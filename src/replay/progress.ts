import type { StreamProgress } from './tables.js';
import type { Replayable } from './targets.js';

export interface ReplayProgress {
  projection: Replayable;
  status: string;
  streams: Record<string, StreamProgress>;
  /** 0…1 over all streams. */
  fraction: number;
  eventsPerSecond: number;
  etaSeconds: number | null;
}

/** How far a replay is, over all its streams, and how long the rest takes at `rate`. */
export function summarize(
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

/** Events a finished replay applied, over all its streams. */
export function eventsApplied(streams: Record<string, StreamProgress>): number {
  return Object.values(streams).reduce((n, s) => n + Math.max(0, s.applied - s.start + 1), 0);
}

/** Events per second over the last `size` samples of a growing count. */
export class RateWindow {
  private readonly samples: { t: number; n: number }[] = [];
  constructor(private readonly size = 20) {}

  /** Adds a sample (`n` done at `t` ms) and returns the rate over the window. */
  add(n: number, t: number): number {
    this.samples.push({ t, n });
    while (this.samples.length > this.size) this.samples.shift();
    const first = this.samples[0]!;
    return this.samples.length > 1 ? ((n - first.n) * 1000) / Math.max(1, t - first.t) : 0;
  }
}
