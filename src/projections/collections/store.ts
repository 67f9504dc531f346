import type { Sql } from '../../db/index.js';
import { saveCheckpoint } from '../checkpoint.js';
import { byKey, keyOf, lockRows, sortedKeys, type DocKey } from '../rows.js';
import { collectionsTables, type CollectionsTables } from '../tables.js';
import {
  applyContribution,
  counts,
  emptyContribution,
  type CollectionInput,
  type DocContribution,
} from './fold.js';

interface Row {
  tenant: string;
  collection: string;
  document_id: string;
  version: string;
  present: boolean;
  bytes: string;
  chunk_version: string;
  chunk_count: number;
}

const contributionOf = (r: Row): DocContribution => ({
  version: Number(r.version),
  present: r.present,
  bytes: Number(r.bytes),
  chunkVersion: Number(r.chunk_version),
  chunkCount: r.chunk_count,
});

/**
 * Writes collection statistics: each document's contribution is folded, and the
 * collection totals move by the difference between its old and new contribution, in
 * the same transaction as the checkpoint.
 */
export class CollectionsStore {
  constructor(
    private readonly sql: Sql,
    readonly tables: CollectionsTables = collectionsTables,
  ) {}

  async apply(
    items: { key: DocKey; input: CollectionInput; at: string }[],
    checkpoint: { stream: string; seq: number },
  ): Promise<void> {
    const keys = sortedKeys(items);
    const inputs = byKey(items);
    const fold = (key: DocKey, from: DocContribution): DocContribution =>
      inputs.get(keyOf(key))!.reduce(applyContribution, from);
    const T = this.tables;
    await this.sql.begin(async (txn) => {
      const tx = txn as unknown as Sql;
      if (keys.length > 0) {
        const before = new Map<string, DocContribution>();
        const lock = async (ks: DocKey[]): Promise<void> => {
          for (const r of await lockRows<Row>(tx, T.docs, ks))
            before.set(
              keyOf({ tenant: r.tenant, collection: r.collection, documentId: r.document_id }),
              contributionOf(r),
            );
        };
        await lock(keys);
        const after = new Map<string, DocContribution>();
        const fresh = keys.filter((k) => !before.has(keyOf(k)));
        if (fresh.length > 0) {
          const rows = fresh.map((key) => ({ key, c: fold(key, emptyContribution) }));
          const inserted = await this.write(tx, 'insert', rows);
          for (const r of rows) if (inserted.has(keyOf(r.key))) after.set(keyOf(r.key), r.c);
          // Rows another writer created since the lock: lock them and fold onto them.
          await lock(fresh.filter((k) => !inserted.has(keyOf(k))));
        }
        const changed: { key: DocKey; c: DocContribution }[] = [];
        for (const key of keys) {
          const k = keyOf(key);
          const old = before.get(k);
          if (old === undefined) continue;
          const c = fold(key, old);
          after.set(k, c);
          if (JSON.stringify(old) !== JSON.stringify(c)) changed.push({ key, c });
        }
        if (changed.length > 0) await this.write(tx, 'update', changed);

        const deltas = new Map<string, { documents: number; bytes: number; chunks: number }>();
        for (const key of keys) {
          const k = keyOf(key);
          const [old, c] = [before.get(k) ?? emptyContribution, after.get(k)!];
          if (JSON.stringify(old) === JSON.stringify(c)) continue;
          const [o, n] = [counts(old), counts(c)];
          const ck = `${key.tenant}\u0000${key.collection}`;
          const dl = deltas.get(ck) ?? { documents: 0, bytes: 0, chunks: 0 };
          deltas.set(ck, {
            documents: dl.documents + n.documents - o.documents,
            bytes: dl.bytes + n.bytes - o.bytes,
            chunks: dl.chunks + n.chunks - o.chunks,
          });
        }
        const lastEvent = new Map<string, string>();
        for (const { key, input, at } of items) {
          if (input.kind === 'chunked') continue;
          const ck = `${key.tenant}\u0000${key.collection}`;
          if ((lastEvent.get(ck) ?? '') < at) lastEvent.set(ck, at);
        }
        const cols = new Set([...deltas.keys(), ...lastEvent.keys()]);
        if (cols.size > 0) {
          const list = [...cols].sort().map((ck) => {
            const [tenant, collection] = ck.split('\u0000') as [string, string];
            const dl = deltas.get(ck) ?? { documents: 0, bytes: 0, chunks: 0 };
            return { tenant, collection, ...dl, at: lastEvent.get(ck) ?? null };
          });
          await tx`
            INSERT INTO ${tx(T.collections)} AS x (tenant, collection, document_count, chunk_count, bytes, last_event_at)
            SELECT * FROM unnest(${list.map((l) => l.tenant)}::text[], ${list.map((l) => l.collection)}::text[],
                                 ${list.map((l) => l.documents)}::int[], ${list.map((l) => l.chunks)}::bigint[],
                                 ${list.map((l) => l.bytes)}::bigint[], ${list.map((l) => l.at)}::text[]::timestamptz[])
            ON CONFLICT (tenant, collection) DO UPDATE SET
              document_count = x.document_count + EXCLUDED.document_count,
              chunk_count = x.chunk_count + EXCLUDED.chunk_count,
              bytes = x.bytes + EXCLUDED.bytes,
              last_event_at = GREATEST(x.last_event_at, EXCLUDED.last_event_at)`;
        }
      }
      await saveCheckpoint(tx, T.checkpoints, checkpoint.stream, checkpoint.seq);
    });
  }

  /** Inserts new rows (returning the keys inserted; a conflict is skipped) or updates rows. */
  private async write(
    tx: Sql,
    mode: 'insert' | 'update',
    rows: { key: DocKey; c: DocContribution }[],
  ): Promise<Set<string>> {
    const source = tx`
      SELECT * FROM unnest(${rows.map((x) => x.key.tenant)}::text[], ${rows.map((x) => x.key.collection)}::text[],
                           ${rows.map((x) => x.key.documentId)}::text[], ${rows.map((x) => x.c.version)}::bigint[],
                           ${rows.map((x) => String(x.c.present))}::text[]::boolean[], ${rows.map((x) => x.c.bytes)}::bigint[],
                           ${rows.map((x) => x.c.chunkVersion)}::bigint[], ${rows.map((x) => x.c.chunkCount)}::int[])
               AS u(t, c, d, v, p, b, cv, cc)`;
    if (mode === 'insert') {
      const inserted = await tx<{ tenant: string; collection: string; document_id: string }[]>`
        INSERT INTO ${tx(this.tables.docs)} (tenant, collection, document_id, version, present, bytes, chunk_version, chunk_count)
        SELECT * FROM (${source}) AS s
        ON CONFLICT (tenant, collection, document_id) DO NOTHING
        RETURNING tenant, collection, document_id`;
      return new Set(
        inserted.map((r) =>
          keyOf({ tenant: r.tenant, collection: r.collection, documentId: r.document_id }),
        ),
      );
    }
    await tx`
      UPDATE ${tx(this.tables.docs)} AS x SET version = s.v, present = s.p, bytes = s.b, chunk_version = s.cv, chunk_count = s.cc
      FROM (${source}) AS s
      WHERE x.tenant = s.t AND x.collection = s.c AND x.document_id = s.d`;
    return new Set();
  }
}
