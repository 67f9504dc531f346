import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '../logger.js';
import type { Breakers, Dependency } from '../runtime/index.js';
import { processesBucket } from '../topology/index.js';

/** What a running process says of itself, every few seconds, in the processes bucket. */
export interface Heartbeat {
  /** host-pid-random: unique per process start. */
  id: string;
  host: string;
  pid: number;
  roles: string[];
  startedAt: string;
  /** When this beat was written. */
  at: string;
  /** Breakers open in this process (a dependency it cannot reach), with since when. */
  openBreakers: { dependency: Dependency; since: string; reason: string }[];
  rssBytes: number;
}

export interface HeartbeatOptions {
  nc: NatsConnection;
  namespace: string;
  roles: readonly string[];
  breakers: Breakers;
  logger: Logger;
  /** Stream replicas of the bucket. @defaultValue 1 */
  replicas?: number;
  /** Between beats; a process is forgotten three intervals after its last. @defaultValue 5_000 */
  intervalMs?: number;
  /**
   * The process's entry (`processId()`). A caller that retries the start passes one id to
   * every try: a first beat that timed out may still have been written, and a new id
   * would list the process twice until that entry expires.
   */
  id?: string;
}

/** host-pid-random: the key of one process start's heartbeat. */
export function processId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`.replace(/[^\w-]/g, '_');
}

async function openBucket(
  nc: NatsConnection,
  namespace: string,
  o?: { replicas: number; ttl: number },
): Promise<KV> {
  const kvm = new Kvm(nc);
  return o
    ? kvm.create(processesBucket(namespace), { history: 1, ttl: o.ttl, replicas: o.replicas })
    : kvm.open(processesBucket(namespace));
}

/**
 * Writes this process's heartbeat into the `<ns>_processes` KV bucket until stopped.
 * Entries expire three intervals after their last write, so a process killed without a
 * goodbye leaves the list on its own; one that stops cleanly deletes its entry.
 * A beat that cannot be written (NATS down) is skipped: the breakers say why.
 */
export async function startHeartbeat(o: HeartbeatOptions): Promise<{ stop(): Promise<void> }> {
  const interval = o.intervalMs ?? 5_000;
  const kv = await openBucket(o.nc, o.namespace, {
    replicas: o.replicas ?? 1,
    ttl: interval * 3,
  });
  const host = hostname();
  const id = o.id ?? processId();
  const startedAt = new Date().toISOString();
  const beat = async (): Promise<void> => {
    const h: Heartbeat = {
      id,
      host,
      pid: process.pid,
      roles: [...o.roles],
      startedAt,
      at: new Date().toISOString(),
      openBreakers: o.breakers.open(),
      rssBytes: process.memoryUsage.rss(),
    };
    await kv.put(id, JSON.stringify(h));
  };
  let failing = false;
  const tick = (): void => {
    beat().then(
      () => (failing = false),
      (err: unknown) => {
        if (!failing) o.logger.warn({ err }, 'could not write the heartbeat; retrying');
        failing = true;
      },
    );
  };
  await beat();
  const timer = setInterval(tick, interval);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await kv.delete(id).catch(() => {});
    },
  };
}

/** Every live process's last heartbeat, oldest start first; none when the bucket does not exist. */
export async function readHeartbeats(nc: NatsConnection, namespace: string): Promise<Heartbeat[]> {
  const out: Heartbeat[] = [];
  try {
    const kv = await openBucket(nc, namespace);
    for await (const key of await kv.keys()) {
      const e = await kv.get(key);
      if (e && e.operation === 'PUT') out.push(e.json<Heartbeat>());
    }
  } catch (err) {
    // No process has run in this namespace yet.
    if (err instanceof Error && err.name === 'StreamNotFoundError') return [];
    throw err;
  }
  return out.sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.id.localeCompare(b.id));
}
