import type { Logger } from '../logger.js';
import { breakerOpen } from '../metrics.js';
import type { Failure } from './classify.js';

/** What a consumer's work depends on, each with a breaker of its own. */
export type Dependency = 'nats' | 'postgres' | 'model';
export const dependencies: readonly Dependency[] = ['nats', 'postgres', 'model'];

/** Answers when the dependency works; rejects (or times out) when it does not. */
export type Probe = () => Promise<unknown>;

/** The dependency an outage-class failure blames, if any. */
export function dependencyOf(f: Pick<Failure, 'code'>): Dependency | undefined {
  switch (f.code) {
    case 'DB_UNAVAILABLE':
      return 'postgres';
    case 'NATS_UNAVAILABLE':
      return 'nats';
    case 'MODEL_UNAVAILABLE':
    case 'WORKER_EXITED':
      return 'model';
    default:
      return undefined;
  }
}

interface State {
  open: boolean;
  since?: number;
  reason?: string;
  waiters: (() => void)[];
}

export interface BreakerOptions {
  /** Between probes while a breaker is open. @defaultValue 1_000 */
  probeIntervalMs?: number;
  /** A probe that takes longer fails. @defaultValue 2_000 */
  probeTimeoutMs?: number;
}

/**
 * Circuit breakers, one per dependency, shared by every consumer of a process. A batch
 * that fails as an outage (PostgreSQL or NATS unreachable, the model's worker gone)
 * asks `trip()`: it probes the dependency; when the probe fails too the breaker opens,
 * and consumers stop taking batches and hold the one in hand (its messages kept alive)
 * until a probe succeeds, instead of spending its attempts. A failure whose dependency
 * answers the probe is an ordinary failure: retried and, in the end, dead-lettered.
 * State is in /readyz (`pipeline`) and /metrics (`sluice_breaker_open`).
 */
export class Breakers {
  private readonly states = new Map<Dependency, State>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly probeIntervalMs: number;
  private readonly probeTimeoutMs: number;
  private closed = false;

  constructor(
    private readonly probes: Partial<Record<Dependency, Probe>>,
    private readonly logger: Logger,
    o: BreakerOptions = {},
  ) {
    this.probeIntervalMs = o.probeIntervalMs ?? 1_000;
    this.probeTimeoutMs = o.probeTimeoutMs ?? 2_000;
    for (const d of dependencies) {
      this.states.set(d, { open: false, waiters: [] });
      breakerOpen.set({ dependency: d }, 0);
    }
  }

  /** Adds (or replaces) a dependency's probe: roles that load a model add theirs. */
  setProbe(dependency: Dependency, probe: Probe): void {
    this.probes[dependency] = probe;
  }

  /**
   * After an outage-class failure: probes the dependency and opens its breaker if the
   * probe fails. True when the breaker is open (hold the work and wait), false when the
   * dependency answers (treat the failure as an ordinary one).
   */
  async trip(dependency: Dependency, reason: string): Promise<boolean> {
    const s = this.states.get(dependency)!;
    if (s.open) return true;
    if (await this.probeOk(dependency)) return false;
    if (s.open) return true;
    s.open = true;
    s.since = Date.now();
    s.reason = reason;
    breakerOpen.set({ dependency }, 1);
    this.logger.warn(
      { dependency, reason },
      'dependency unavailable: consumers pause and hold their work until it answers',
    );
    this.schedule(dependency);
    return true;
  }

  /** Resolves once no breaker is open (at once when none is). */
  async waitClosed(): Promise<void> {
    for (const [, s] of this.states) {
      if (s.open) await new Promise<void>((resolve) => s.waiters.push(resolve));
    }
  }

  get anyOpen(): boolean {
    return [...this.states.values()].some((s) => s.open);
  }

  /** For /readyz: the open breakers, with since when and why. */
  open(): { dependency: Dependency; since: string; reason: string }[] {
    return [...this.states.entries()]
      .filter(([, s]) => s.open)
      .map(([dependency, s]) => ({
        dependency,
        since: new Date(s.since!).toISOString(),
        reason: s.reason ?? '',
      }));
  }

  /** Stops probing and releases every waiter (the process is stopping). */
  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    for (const [d] of this.states) this.reset(d);
  }

  private schedule(dependency: Dependency): void {
    if (this.closed) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      void this.probeOk(dependency).then((ok) => {
        if (!ok) return this.schedule(dependency);
        const s = this.states.get(dependency)!;
        this.logger.info(
          { dependency, downForMs: Date.now() - (s.since ?? Date.now()) },
          'dependency answers again: consumers resume',
        );
        this.reset(dependency);
      });
    }, this.probeIntervalMs);
    t.unref();
    this.timers.add(t);
  }

  private reset(dependency: Dependency): void {
    const s = this.states.get(dependency)!;
    s.open = false;
    delete s.since;
    delete s.reason;
    breakerOpen.set({ dependency }, 0);
    for (const w of s.waiters.splice(0)) w();
  }

  private async probeOk(dependency: Dependency): Promise<boolean> {
    const probe = this.probes[dependency];
    if (!probe) return true;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        probe(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('probe timed out')), this.probeTimeoutMs);
        }),
      ]);
      return true;
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }
}
