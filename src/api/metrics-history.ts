import type { Counter, Histogram } from 'prom-client';
import type { Logger } from '../logger.js';
import {
  chunksIndexedTotal,
  embeddingsTotal,
  httpSeconds,
  stageLatencySeconds,
  tokensEmbeddedTotal,
} from '../metrics.js';
import type { DurableSample, PipelineStatusReader } from '../pipeline-status/index.js';

/** One point of the last minutes' throughput and latency: rates over the interval before `t`. */
export interface HistoryPoint {
  /** End of the interval, ms since the epoch. */
  t: number;
  /** Messages settled per second, per durable: from JetStream, so every process's work. */
  durables: Record<string, number>;
  /** Documents reaching each stage per second, as this process's documents projection saw them. */
  documents: { chunked: number; embedded: number; indexed: number };
  /** Chunks embedded (computed) and indexed per second, by this process. */
  chunks: { embedded: number; indexed: number };
  /** Tokens embedded per second, by this process. */
  tokens: number;
  /** Searches this process answered in the interval, and their latency quantiles (ms). */
  search: { count: number; p50: number | null; p99: number | null };
}

type Buckets = [le: number, count: number][];

/**
 * A quantile from cumulative histogram buckets (as Prometheus's histogram_quantile):
 * linear interpolation inside the bucket that holds it. Null without observations; the
 * highest finite bound when it falls in the +Inf bucket.
 */
export function quantileFromBuckets(buckets: Buckets, q: number): number | null {
  const sorted = [...buckets].sort((a, b) => a[0] - b[0]);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of sorted) {
    if (count >= rank) {
      if (le === Infinity) return prevLe;
      const inBucket = count - prevCount;
      return inBucket <= 0 ? le : prevLe + ((le - prevLe) * (rank - prevCount)) / inBucket;
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}

interface LocalSample {
  at: number;
  stages: Record<string, number>;
  embedded: number;
  indexed: number;
  tokens: number;
  searchBuckets: Map<number, number>;
}

async function sum(counter: Counter<string>): Promise<number> {
  return (await counter.get()).values.reduce((n, v) => n + v.value, 0);
}

async function readLocal(): Promise<LocalSample> {
  const stages: Record<string, number> = {};
  for (const v of (await (stageLatencySeconds as Histogram<string>).get()).values)
    if (v.metricName === 'sluice_stage_latency_seconds_count')
      stages[String(v.labels.stage)] = (stages[String(v.labels.stage)] ?? 0) + v.value;
  const searchBuckets = new Map<number, number>();
  for (const v of (await (httpSeconds as Histogram<string>).get()).values)
    if (
      v.metricName === 'sluice_http_request_duration_seconds_bucket' &&
      v.labels.route === '/v1/search'
    ) {
      const le = v.labels.le === '+Inf' ? Infinity : Number(v.labels.le);
      searchBuckets.set(le, (searchBuckets.get(le) ?? 0) + v.value);
    }
  return {
    at: Date.now(),
    stages,
    embedded: await sum(embeddingsTotal),
    indexed: await sum(chunksIndexedTotal),
    tokens: await sum(tokensEmbeddedTotal),
    searchBuckets,
  };
}

/**
 * Keeps the last minutes of throughput and latency in memory, one point every
 * `intervalMs`, so that the dashboard draws its charts without a Prometheus.
 */
export class MetricsHistory {
  private readonly points: HistoryPoint[] = [];
  private timer: NodeJS.Timeout | undefined;
  private last: { durables: DurableSample; local: LocalSample } | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly o: {
      reader: PipelineStatusReader;
      logger: Logger;
      /** @defaultValue 5_000 */
      intervalMs?: number;
      /** @defaultValue 15 minutes */
      keepMs?: number;
    },
  ) {}

  get intervalMs(): number {
    return this.o.intervalMs ?? 5_000;
  }

  start(): void {
    const tick = (): void => {
      this.running ??= this.sample()
        .catch((err: unknown) => this.o.logger.debug({ err }, 'metrics history sample failed'))
        .finally(() => (this.running = undefined));
    };
    tick();
    this.timer = setInterval(tick, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Points newer than `sinceMs`, oldest first. */
  since(sinceMs: number): HistoryPoint[] {
    return this.points.filter((p) => p.t > sinceMs);
  }

  /** The newest durable sample (for rates of a reading taken now). */
  get lastDurables(): DurableSample | undefined {
    return this.last?.durables;
  }

  private async sample(): Promise<void> {
    const durables = await this.o.reader.sample();
    const local = await readLocal();
    const prev = this.last;
    this.last = { durables, local };
    if (!prev) return;
    const seconds = (local.at - prev.local.at) / 1000;
    if (seconds <= 0) return;
    const rate = (a: number, b: number): number => Math.max(0, b - a) / seconds;
    const perDurable: Record<string, number> = {};
    durables.infos.forEach((info, i) => {
      const before = prev.durables.infos[i];
      if (info && before)
        perDurable[info.name] =
          Math.round(rate(before.ack_floor.stream_seq, info.ack_floor.stream_seq) * 100) / 100;
    });
    const buckets: Buckets = [...local.searchBuckets].map(([le, n]) => [
      le,
      n - (prev.local.searchBuckets.get(le) ?? 0),
    ]);
    const ms = (s: number | null): number | null =>
      s === null ? null : Math.round(s * 10_000) / 10;
    this.points.push({
      t: local.at,
      durables: perDurable,
      documents: {
        chunked: rate(prev.local.stages.chunked ?? 0, local.stages.chunked ?? 0),
        embedded: rate(prev.local.stages.embedded ?? 0, local.stages.embedded ?? 0),
        indexed: rate(prev.local.stages.indexed ?? 0, local.stages.indexed ?? 0),
      },
      chunks: {
        embedded: rate(prev.local.embedded, local.embedded),
        indexed: rate(prev.local.indexed, local.indexed),
      },
      tokens: rate(prev.local.tokens, local.tokens),
      search: {
        count: Math.max(0, ...buckets.filter(([le]) => le === Infinity).map(([, n]) => n)),
        p50: ms(quantileFromBuckets(buckets, 0.5)),
        p99: ms(quantileFromBuckets(buckets, 0.99)),
      },
    });
    const horizon = Date.now() - (this.o.keepMs ?? 15 * 60_000);
    while (this.points.length > 0 && this.points[0]!.t < horizon) this.points.shift();
  }
}
