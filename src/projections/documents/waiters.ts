import type { Sql } from '../../db/index.js';
import type { Logger } from '../../logger.js';
import type { DocKey } from '../rows.js';
import { getDocuments, type DocumentView } from './queries.js';

/** The channel the documents projection notifies on when rows change. */
export const DOCUMENTS_CHANNEL = 'sluice_documents';
/** NOTIFY payloads are limited to 8000 bytes; past this, a batch says "everything". */
const MAX_PAYLOAD = 7_000;

const keyOf = (k: DocKey): string => JSON.stringify([k.tenant, k.collection, k.documentId]);

/** In the writing transaction: tells waiting readers which documents changed (at commit). */
export async function notifyDocuments(tx: Sql, keys: DocKey[]): Promise<void> {
  let payload = JSON.stringify(keys.map((k) => [k.tenant, k.collection, k.documentId]));
  if (Buffer.byteLength(payload) > MAX_PAYLOAD) payload = '*';
  await tx`SELECT pg_notify(${DOCUMENTS_CHANNEL}, ${payload})`;
}

interface Waiter {
  key: DocKey;
  done: (doc: DocumentView | undefined) => boolean;
  resolve: (r: { doc: DocumentView | undefined; timedOut: boolean }) => void;
  timer: NodeJS.Timeout;
  last: DocumentView | undefined;
}

/**
 * Read-your-writes without polling: callers wait for a document to reach a state, and
 * are woken by the documents projection's NOTIFY (one LISTEN connection per process).
 * A notification re-reads only the waited documents it names, all in one query, so the
 * database load follows the rate of changes, not the number of waiters.
 */
export class DocumentWaiters {
  private readonly waiters = new Map<string, Set<Waiter>>();
  private pending = new Set<string>();
  private all = false;
  private flushing: Promise<void> | undefined;
  private unlisten: (() => Promise<void>) | undefined;
  /** Queries made to re-read waited documents (for the read-your-writes benchmark). */
  queries = 0;

  constructor(
    private readonly sql: Sql,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    const l = await this.sql.listen(
      DOCUMENTS_CHANNEL,
      (payload) => this.onNotify(payload),
      // (Re)connected: notifications may have been missed meanwhile; look at every waiter.
      () => this.onNotify('*'),
    );
    this.unlisten = () => l.unlisten();
  }

  async close(): Promise<void> {
    for (const set of this.waiters.values())
      for (const w of set) {
        clearTimeout(w.timer);
        w.resolve({ doc: w.last, timedOut: true });
      }
    this.waiters.clear();
    // UNLISTEN on a connection an outage broke may never answer: do not wait on it.
    await Promise.race([
      this.unlisten?.().catch(() => {}),
      new Promise((r) => setTimeout(r, 2_000).unref()),
    ]);
  }

  /** Waiters now (for tests and metrics). */
  get size(): number {
    let n = 0;
    for (const s of this.waiters.values()) n += s.size;
    return n;
  }

  /**
   * Resolves with the document once `done(doc)` holds, or when `timeoutMs` passes (with
   * the document as it last was, and timedOut).
   */
  async wait(
    key: DocKey,
    done: (doc: DocumentView | undefined) => boolean,
    timeoutMs: number,
  ): Promise<{ doc: DocumentView | undefined; timedOut: boolean }> {
    let waiter!: Waiter;
    // The timeout answers only after the first look: with a short wait (or none) the
    // timer must not win against the first read and answer "unknown".
    let looked!: () => void;
    const firstLook = new Promise<void>((r) => (looked = r));
    const result = new Promise<{ doc: DocumentView | undefined; timedOut: boolean }>((resolve) => {
      waiter = {
        key,
        done,
        resolve,
        last: undefined,
        timer: setTimeout(
          () =>
            void firstLook.then(() => {
              this.remove(waiter);
              resolve({ doc: waiter.last, timedOut: true });
            }),
          timeoutMs,
        ),
      };
    });
    // Registered before the first read: a change between the two is not missed.
    const k = keyOf(key);
    if (!this.waiters.has(k)) this.waiters.set(k, new Set());
    this.waiters.get(k)!.add(waiter);
    try {
      const [doc] = await getDocuments(this.sql, [key]);
      this.settle(waiter, doc);
    } finally {
      looked();
    }
    return result;
  }

  private settle(w: Waiter, doc: DocumentView | undefined): void {
    w.last = doc;
    if (!w.done(doc)) return;
    clearTimeout(w.timer);
    this.remove(w);
    w.resolve({ doc, timedOut: false });
  }

  private remove(w: Waiter): void {
    const k = keyOf(w.key);
    const set = this.waiters.get(k);
    set?.delete(w);
    if (set?.size === 0) this.waiters.delete(k);
  }

  private onNotify(payload: string): void {
    if (this.waiters.size === 0) return;
    if (payload === '*') this.all = true;
    else {
      try {
        for (const [t, c, d] of JSON.parse(payload) as [string, string, string][]) {
          const k = keyOf({ tenant: t, collection: c, documentId: d });
          if (this.waiters.has(k)) this.pending.add(k);
        }
      } catch {
        this.all = true;
      }
    }
    this.flushing ??= this.flush().finally(() => (this.flushing = undefined));
  }

  /** One query for every waited document a batch of notifications named. */
  private async flush(): Promise<void> {
    while (this.all || this.pending.size > 0) {
      const keys = this.all ? [...this.waiters.keys()] : [...this.pending];
      this.all = false;
      this.pending = new Set();
      const docKeys = keys
        .map((k) => this.waiters.get(k)?.values().next().value?.key)
        .filter((k): k is DocKey => k !== undefined);
      if (docKeys.length === 0) continue;
      try {
        this.queries++;
        const docs = await getDocuments(this.sql, docKeys);
        const byKey = new Map(
          docs.map((d) => [
            keyOf({ tenant: d.tenant, collection: d.collection, documentId: d.id }),
            d,
          ]),
        );
        for (const k of keys)
          for (const w of [...(this.waiters.get(k) ?? [])]) this.settle(w, byKey.get(k));
      } catch (err) {
        this.logger.warn({ err }, 'read-your-writes: re-reading waited documents failed');
      }
    }
  }
}

export interface VersionWait {
  /** indexed (or deleted) at the version or later; failed; or still on its way. */
  outcome: 'visible' | 'failed' | 'timeout';
  doc: DocumentView | undefined;
}

/**
 * Waits until a document's version `minVersion` or a later one is searchable (indexed,
 * or deleted), failed, or `timeoutMs` passes. 0 looks once without waiting.
 */
export async function waitForVersion(
  waiters: DocumentWaiters,
  key: DocKey,
  minVersion: number,
  timeoutMs: number,
): Promise<VersionWait> {
  const settled = (d: DocumentView | undefined): boolean =>
    d !== undefined &&
    d.version >= minVersion &&
    (d.status === 'indexed' || d.status === 'deleted' || d.status === 'failed');
  const { doc } = await waiters.wait(key, settled, timeoutMs);
  if (!settled(doc)) return { outcome: 'timeout', doc };
  return { outcome: doc!.status === 'failed' ? 'failed' : 'visible', doc };
}
