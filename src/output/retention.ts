import type { Sql } from '../db/index.js';
import type { Logger } from '../logger.js';

export interface RetentionOptions {
  sql: Sql;
  logger: Logger;
  /** Finished deliveries and attempts older than this go; 0 keeps everything. */
  retentionMs: number;
  /** Rows per DELETE, so no statement holds locks or WAL for long. @defaultValue 1000 */
  batch?: number;
  /** Between prunes. @defaultValue 300_000 (5 minutes) */
  everyMs?: number;
}

/**
 * Deletes finished webhook deliveries (succeeded, dead, gone, cancelled) made before
 * the retention, and attempts made before it whose delivery is not pending, a batch
 * at a time until none is left. A pending delivery and its attempts stay whatever
 * their age: it is still being sent (or waits for a redrive).
 */
export async function pruneWebhooks(
  o: Pick<RetentionOptions, 'sql' | 'retentionMs' | 'batch'>,
): Promise<{ deliveries: number; attempts: number }> {
  const out = { deliveries: 0, attempts: 0 };
  if (o.retentionMs <= 0) return out;
  const batch = o.batch ?? 1_000;
  const cutoff = new Date(Date.now() - o.retentionMs).toISOString();
  for (;;) {
    const gone = await o.sql`
      DELETE FROM webhook_attempts WHERE (delivery_id, attempt) IN (
        SELECT a.delivery_id, a.attempt FROM webhook_attempts a
        WHERE a.at < ${cutoff}::timestamptz
          AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d
                          WHERE d.id = a.delivery_id AND d.status = 'pending')
        LIMIT ${batch})`;
    out.attempts += gone.count;
    if (gone.count < batch) break;
  }
  for (;;) {
    const gone = await o.sql`
      DELETE FROM webhook_deliveries WHERE id IN (
        SELECT id FROM webhook_deliveries
        WHERE created_at < ${cutoff}::timestamptz AND status <> 'pending'
        LIMIT ${batch})`;
    out.deliveries += gone.count;
    if (gone.count < batch) break;
  }
  return out;
}

/** Prunes at start and every `everyMs` after, until stopped; a failed prune is retried then. */
export function startRetention(o: RetentionOptions): { stop: () => Promise<void> } {
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  let busy = false;
  const tick = (): void => {
    if (busy) return;
    busy = true;
    running = pruneWebhooks(o)
      .then((n) => {
        if (n.deliveries + n.attempts > 0)
          o.logger.info(n, 'webhooks: pruned deliveries and attempts past the retention');
      })
      .catch((err: unknown) => o.logger.warn({ err }, 'webhooks: could not prune old deliveries'))
      .finally(() => (busy = false));
  };
  if (o.retentionMs <= 0) return { stop: async () => {} };
  tick();
  const timer = setInterval(() => {
    if (!stopped) tick();
  }, o.everyMs ?? 300_000);
  timer.unref();
  return {
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
