import { DeliverPolicy } from '@nats-io/jetstream';
import type { Sql } from '../db/index.js';
import { previousExists, rollback as swapBack } from '../db/index.js';
import { SluiceError } from '../errors/index.js';
import type { Logger } from '../logger.js';
import type { ReplayDurables } from './durables.js';
import { retryWhileBusy } from './lock.js';
import type { ReplayStates } from './state.js';
import type { StreamProgress } from './tables.js';
import type { ReplayTarget } from './targets.js';

/**
 * Swaps the tables the last replay replaced back in, then applies to them every event
 * that arrived since that swap (they stopped receiving them then), so the restored
 * tables are current: the catch-up phase again, from the last swap's stop points.
 * Rolling back again undoes it the same way. ROLLBACK_UNAVAILABLE when there is no
 * finished replay with previous tables kept. Runs holding the replay lock.
 */
export async function rollBack(
  o: {
    sql: Sql;
    states: ReplayStates;
    durables: ReplayDurables;
    ackWaitSeconds: number;
    log: Logger;
    /** Applies the streams to the live tables up to their stops (see drive). */
    catchUp: () => Promise<boolean>;
  },
  target: ReplayTarget,
): Promise<{ reapplied: number }> {
  const { sql, states, durables, log } = o;
  const name = target.name;
  const row = await states.read(name);
  if (!row || row.status !== 'done' || !(await previousExists(sql, name, target.tables)))
    throw new SluiceError(
      'ROLLBACK_UNAVAILABLE',
      `no finished replay of ${name} with its previous tables kept (schema sluice_prev_${name})`,
    );
  await retryWhileBusy(
    () => swapBack(sql, name, target.tables),
    (attempt) => log.warn({ attempt }, 'live tables busy: the swap waits and tries again'),
  );
  // The restored tables saw every event up to the swap (each stream's stop): apply
  // what came after, from the streams, with the replay durables.
  const streams: Record<string, StreamProgress> = {};
  for (const s of target.streams) {
    const from = row.streams[s]!.stop + 1;
    await durables.create(s, {
      description: `Sluice rollback of ${name}`,
      ackWaitSeconds: o.ackWaitSeconds,
      start: { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from },
    });
    const last = await durables.lastSeq(s);
    streams[s] = { start: from, stop: last, applied: from - 1 };
  }
  await states.enterCatchUp(name, sql, streams);
  await o.catchUp();
  await durables.deleteAll();
  // The stops are the new swap point: another rollback re-applies from there.
  await states.done(name, false);
  const reapplied = Object.values(streams).reduce(
    (n, p) => n + Math.max(0, p.stop - p.start + 1),
    0,
  );
  log.info({ reapplied }, 'rolled back; events since the swap re-applied');
  return { reapplied };
}
