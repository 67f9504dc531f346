import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/**
 * Cores this process may use: its cgroup's CPU limit (cgroup v2 `cpu.max`, rounded up)
 * where one is set and lower, else the machine's. Node 20's availableParallelism()
 * counts the machine's cores even in a container limited to two of them.
 */
export function usableCores(cpuMax: string | undefined = readCpuMax()): number {
  const machine = availableParallelism();
  const limit = cpuMax === undefined ? undefined : coresOfCpuMax(cpuMax);
  return limit === undefined ? machine : Math.min(machine, limit);
}

/** `cpu.max` is "QUOTA PERIOD" in microseconds, or "max PERIOD" when unlimited. */
export function coresOfCpuMax(text: string): number | undefined {
  const m = /^(\d+) (\d+)\s*$/.exec(text);
  if (!m) return undefined;
  const quota = Number(m[1]);
  const period = Number(m[2]);
  if (!(quota > 0 && period > 0)) return undefined;
  return Math.max(1, Math.ceil(quota / period));
}

function readCpuMax(): string | undefined {
  try {
    return readFileSync('/sys/fs/cgroup/cpu.max', 'utf8');
  } catch {
    return undefined;
  }
}
