import { randomUUID } from 'node:crypto';
import type {
  DeadLetters,
  LetterScope,
  RedriveProgress,
  RedriveSelection,
} from '../dead-letters/index.js';
import type { Sql } from '../db/index.js';
import { SluiceError } from '../errors/index.js';
import type { Logger } from '../logger.js';

export type RedriveJobStatus =
  'running' | 'cancelling' | 'done' | 'failed' | 'cancelled' | 'interrupted';

export interface RedriveJob {
  id: string;
  /** The tenant whose letters it redrives; null for an operator's installation-wide job. */
  tenant: string | null;
  selection: { consumer?: string; all?: boolean };
  status: RedriveJobStatus;
  redriven: number;
  failed: number;
  scanned: number;
  error: string | null;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

interface Row {
  id: string;
  tenant: string | null;
  selection: { consumer?: string; all?: boolean };
  status: string;
  redriven: number;
  failed: number;
  scanned: number | string;
  error: string | null;
  created_at: Date;
  heartbeat_at: Date;
  finished_at: Date | null;
}

/**
 * Redrives of whole consumers or of everything, run as background jobs: the request
 * that starts one answers at once with the job, and its progress is stored so any API
 * process can report it. One job per scope runs at a time. A job whose process dies
 * stops its heartbeat and reads as interrupted; starting another one redrives what is
 * left (redriven letters are gone from the stream, and their copies carry a message id
 * the retry stream deduplicates on).
 */
export class RedriveJobs {
  private readonly running = new Map<string, { abort: AbortController; done: Promise<void> }>();

  constructor(
    private readonly sql: Sql,
    private readonly letters: DeadLetters,
    private readonly logger: Logger,
    private readonly heartbeatMs = 5_000,
  ) {}

  /** Starts a job, or refuses with REDRIVE_RUNNING when one of the same scope runs. */
  async start(scope: LetterScope, sel: { consumer?: string; all?: boolean }): Promise<RedriveJob> {
    if (sel.consumer === undefined && !sel.all)
      throw new SluiceError('REQUEST_INVALID', 'say what to redrive: a consumer, or all');
    const tenant = scope === 'installation' ? null : scope.tenant;
    const busy = (await this.rows(tenant))
      .map((r) => this.view(r))
      .find((j) => j.status === 'running' || j.status === 'cancelling');
    if (busy)
      throw new SluiceError(
        'REDRIVE_RUNNING',
        `redrive job ${busy.id} is still running; watch it at /v1/dead-letters/redrive-jobs/${busy.id}`,
      );
    const id = randomUUID();
    const selection = {
      ...(sel.consumer === undefined ? {} : { consumer: sel.consumer }),
      ...(sel.all ? { all: true } : {}),
    };
    const [row] = await this.sql<Row[]>`
      INSERT INTO redrive_jobs (id, tenant, selection, status)
      VALUES (${id}, ${tenant}, ${JSON.stringify(selection)}::jsonb, 'running')
      RETURNING *`;
    const abort = new AbortController();
    const done = this.run(id, { ...selection, scope }, abort.signal).finally(() =>
      this.running.delete(id),
    );
    this.running.set(id, { abort, done });
    return this.view(row!);
  }

  private async run(id: string, sel: RedriveSelection, signal: AbortSignal): Promise<void> {
    const beat = setInterval(() => {
      this.sql`UPDATE redrive_jobs SET heartbeat_at = now() WHERE id = ${id}`.catch(
        (err: unknown) => this.logger.warn({ err, job: id }, 'redrive job heartbeat failed'),
      );
    }, this.heartbeatMs);
    beat.unref();
    // Progress is saved after each page; a cancel asked of any API process is seen there.
    const save = async (p: RedriveProgress): Promise<void> => {
      const [row] = await this.sql<{ status: string }[]>`
        UPDATE redrive_jobs
        SET redriven = ${p.redriven}, failed = ${p.failed}, scanned = ${p.scanned},
            heartbeat_at = now()
        WHERE id = ${id} RETURNING status`;
      if (row?.status === 'cancelling') abort.abort();
    };
    const abort = new AbortController();
    signal.addEventListener('abort', () => abort.abort(), { once: true });
    try {
      await this.letters.redrive(sel, { onProgress: save, signal: abort.signal });
      await this.finish(id, abort.signal.aborted ? 'cancelled' : 'done', null);
    } catch (err) {
      this.logger.error({ err, job: id }, 'redrive job failed');
      await this.finish(id, 'failed', (err as Error).message ?? String(err)).catch((e: unknown) =>
        this.logger.error({ err: e, job: id }, 'could not record the failure'),
      );
    } finally {
      clearInterval(beat);
    }
  }

  private async finish(id: string, status: RedriveJobStatus, error: string | null): Promise<void> {
    await this.sql`
      UPDATE redrive_jobs SET status = ${status}, error = ${error}, finished_at = now(),
        heartbeat_at = now()
      WHERE id = ${id}`;
  }

  /** One job, if the scope may see it. */
  async get(scope: LetterScope, id: string): Promise<RedriveJob | undefined> {
    const [row] = await this.sql<Row[]>`SELECT * FROM redrive_jobs WHERE id = ${id}`;
    if (!row) return undefined;
    if (scope !== 'installation' && row.tenant !== scope.tenant) return undefined;
    return this.view(row);
  }

  /** The latest jobs of a scope (an operator sees every tenant's), newest first. */
  async list(scope: LetterScope, limit = 20): Promise<RedriveJob[]> {
    const rows =
      scope === 'installation'
        ? await this.sql<Row[]>`SELECT * FROM redrive_jobs ORDER BY created_at DESC LIMIT ${limit}`
        : await this.rows(scope.tenant, limit);
    return rows.map((r) => this.view(r));
  }

  /**
   * Asks a running job to stop; the process running it stops after the page in hand.
   * Undefined when the scope has no such job.
   */
  async cancel(scope: LetterScope, id: string): Promise<RedriveJob | undefined> {
    const job = await this.get(scope, id);
    if (!job) return undefined;
    if (job.status !== 'running')
      throw new SluiceError('REQUEST_INVALID', `redrive job ${id} is ${job.status}, not running`);
    await this
      .sql`UPDATE redrive_jobs SET status = 'cancelling' WHERE id = ${id} AND status = 'running'`;
    this.running.get(id)?.abort.abort();
    return { ...job, status: 'cancelling' };
  }

  /** Stops this process's jobs (they read as cancelled) and waits for them. */
  async close(): Promise<void> {
    for (const j of this.running.values()) j.abort.abort();
    await Promise.all([...this.running.values()].map((j) => j.done));
  }

  private rows(tenant: string | null, limit = 20): Promise<Row[]> {
    return this.sql<Row[]>`
      SELECT * FROM redrive_jobs WHERE tenant IS NOT DISTINCT FROM ${tenant}
      ORDER BY created_at DESC LIMIT ${limit}`;
  }

  private view(r: Row): RedriveJob {
    const stale = Date.now() - new Date(r.heartbeat_at).getTime() > 3 * this.heartbeatMs;
    return {
      id: r.id,
      tenant: r.tenant,
      selection: r.selection,
      status: (['running', 'cancelling'].includes(r.status) && stale
        ? 'interrupted'
        : r.status) as RedriveJobStatus,
      redriven: r.redriven,
      failed: r.failed,
      scanned: Number(r.scanned),
      error: r.error,
      createdAt: new Date(r.created_at).toISOString(),
      updatedAt: new Date(r.heartbeat_at).toISOString(),
      finishedAt: r.finished_at === null ? null : new Date(r.finished_at).toISOString(),
    };
  }
}
