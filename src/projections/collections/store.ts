import type { Sql } from '../../db/index.js';
import { saveCheckpoint } from '../checkpoint.js';
import type { DocKey } from '../documents/store.js';
import { collectionsTables, type CollectionsTables } from '../tables.js';
import {
  applyContribution,
  counts,
  emptyContribution,
  type CollectionInput,
  type DocContribution,
} from './fold.js';

const keyOf = (k: DocKey): string => `${k.tenant}\u0000${k.collection}\u0000${k.documentId}`;

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
    const keys = new Map<string, DocKey>();
    for (const { key } of items) keys.set(keyOf(key), key);
    const sorted = [...keys.values()].sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
    const T = this.tables;
    await this.sql.begin(async (txn) => {
      const tx = txn as unknown as Sql;
      if (sorted.length > 0) {
        const t = sorted.map((k) => k.tenant);
        const c = sorted.map((k) => k.collection);
        const d = sorted.map((k) => k.documentId);
        await tx`
          INSERT INTO ${tx(T.docs)} (tenant, collection, document_id)
          SELECT * FROM unnest(${t}::text[], ${c}::text[], ${d}::text[]) ON CONFLICT DO NOTHING`;
        const rows = await tx<
          {
            tenant: string;
            collection: string;
            document_id: string;
            version: string;
            present: boolean;
            bytes: string;
            chunk_version: string;
            chunk_count: number;
          }[]
        >`
          SELECT x.* FROM ${tx(T.docs)} x
          JOIN unnest(${t}::text[], ${c}::text[], ${d}::text[]) AS u(t, c, d)
            ON x.tenant = u.t AND x.collection = u.c AND x.document_id = u.d
          ORDER BY x.tenant, x.collection, x.document_id
          FOR UPDATE OF x`;
        const before = new Map<string, DocContribution>(
          rows.map((r) => [
            keyOf({ tenant: r.tenant, collection: r.collection, documentId: r.document_id }),
            {
              version: Number(r.version),
              present: r.present,
              bytes: Number(r.bytes),
              chunkVersion: Number(r.chunk_version),
              chunkCount: r.chunk_count,
            },
          ]),
        );
        const after = new Map(before);
        const lastEvent = new Map<string, string>();
        for (const { key, input, at } of items) {
          const k = keyOf(key);
          after.set(k, applyContribution(after.get(k) ?? emptyContribution, input));
          if (input.kind !== 'chunked') {
            const ck = `${key.tenant}\u0000${key.collection}`;
            if ((lastEvent.get(ck) ?? '') < at) lastEvent.set(ck, at);
          }
        }
        const deltas = new Map<string, { documents: number; bytes: number; chunks: number }>();
        const changed: { key: DocKey; c: DocContribution }[] = [];
        for (const [k, c] of after) {
          const old = before.get(k) ?? emptyContribution;
          if (JSON.stringify(old) === JSON.stringify(c)) continue;
          const key = keys.get(k)!;
          changed.push({ key, c });
          const [o, n] = [counts(old), counts(c)];
          const ck = `${key.tenant}\u0000${key.collection}`;
          const dl = deltas.get(ck) ?? { documents: 0, bytes: 0, chunks: 0 };
          deltas.set(ck, {
            documents: dl.documents + n.documents - o.documents,
            bytes: dl.bytes + n.bytes - o.bytes,
            chunks: dl.chunks + n.chunks - o.chunks,
          });
        }
        if (changed.length > 0) {
          await tx`
            UPDATE ${tx(T.docs)} AS x SET version = u.v, present = u.p, bytes = u.b, chunk_version = u.cv, chunk_count = u.cc
            FROM unnest(${changed.map((x) => x.key.tenant)}::text[], ${changed.map((x) => x.key.collection)}::text[],
                        ${changed.map((x) => x.key.documentId)}::text[], ${changed.map((x) => x.c.version)}::bigint[],
                        ${changed.map((x) => String(x.c.present))}::text[]::boolean[], ${changed.map((x) => x.c.bytes)}::bigint[],
                        ${changed.map((x) => x.c.chunkVersion)}::bigint[], ${changed.map((x) => x.c.chunkCount)}::int[])
                 AS u(t, c, d, v, p, b, cv, cc)
            WHERE x.tenant = u.t AND x.collection = u.c AND x.document_id = u.d`;
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
}
