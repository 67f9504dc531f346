import type { Sql } from '../../db/index.js';
import { saveCheckpoint } from '../checkpoint.js';
import { byKey, iso, keyOf, lockRows, sortedKeys, type DocKey } from '../rows.js';
import { documentsTables, type DocumentsTables } from '../tables.js';
import { applyDoc, emptyDoc, type DocInput, type DocState } from './fold.js';
import { notifyDocuments } from './waiters.js';
import { stageLatencySeconds } from '../../metrics.js';

const stages = ['chunked', 'embedded', 'indexed'] as const;

/** Stages a document version reached in this write, with the seconds since its event time. */
function reached(old: DocState | undefined, next: DocState): { stage: string; seconds: number }[] {
  const out: { stage: string; seconds: number }[] = [];
  if (next.receivedAt === null) return out;
  for (const stage of stages) {
    const at = next[`${stage}At`];
    if (at === null || at === old?.[`${stage}At`]) continue;
    const seconds = (Date.parse(at) - Date.parse(next.receivedAt)) / 1000;
    // Clocks of different machines: a stage a little "before" its event is observed as 0.
    if (Number.isFinite(seconds)) out.push({ stage, seconds: Math.max(0, seconds) });
  }
  return out;
}

interface Row {
  tenant: string;
  collection: string;
  document_id: string;
  version: string;
  status: DocState['status'];
  received_version: string;
  title: string | null;
  uri: string | null;
  mime_type: string | null;
  metadata: DocState['metadata'];
  content_hash: string | null;
  bytes: string;
  received_at: Date | string | null;
  deleted_at: Date | string | null;
  chunked_at: Date | string | null;
  embedded_at: Date | string | null;
  indexed_at: Date | string | null;
  failed_at: Date | string | null;
  chunk_count: number | null;
  parts: number | null;
  embedded_parts: number[];
  indexed_parts: number[];
  model_id: string | null;
  progress: DocState['progress'];
  last_error: DocState['lastError'];
  facts: DocState['facts'];
}

function fromRow(r: Row): DocState {
  return {
    tenant: r.tenant,
    collection: r.collection,
    documentId: r.document_id,
    version: Number(r.version),
    status: r.status,
    receivedVersion: Number(r.received_version),
    title: r.title,
    uri: r.uri,
    mimeType: r.mime_type,
    metadata: r.metadata,
    contentHash: r.content_hash,
    bytes: Number(r.bytes),
    receivedAt: iso(r.received_at),
    deletedAt: iso(r.deleted_at),
    chunkedAt: iso(r.chunked_at),
    embeddedAt: iso(r.embedded_at),
    indexedAt: iso(r.indexed_at),
    failedAt: iso(r.failed_at),
    chunkCount: r.chunk_count,
    parts: r.parts,
    embeddedParts: r.embedded_parts,
    indexedParts: r.indexed_parts,
    modelId: r.model_id,
    progress: r.progress ?? {},
    lastError: r.last_error,
    facts: r.facts ?? null,
  };
}

/**
 * Writes the documents read model: per batch, the existing rows it touches are locked
 * (in key order) and folded in memory; new documents are inserted and changed ones
 * updated, with the checkpoint, in one transaction.
 */
export class DocumentsStore {
  constructor(
    private readonly sql: Sql,
    readonly tables: DocumentsTables = documentsTables,
  ) {}

  async apply(
    items: { key: DocKey; input: DocInput }[],
    checkpoint: { stream: string; seq: number },
  ): Promise<void> {
    const keys = sortedKeys(items);
    const inputs = byKey(items);
    const fold = (key: DocKey, from: DocState | undefined): DocState =>
      inputs
        .get(keyOf(key))!
        .reduce(applyDoc, from ?? emptyDoc(key.tenant, key.collection, key.documentId));
    const latencies: { stage: string; seconds: number }[] = [];
    await this.sql.begin(async (txn) => {
      latencies.length = 0;
      const tx = txn as unknown as Sql;
      const before = new Map<string, DocState>();
      const lock = async (ks: DocKey[]): Promise<void> => {
        for (const r of await lockRows<Row>(tx, this.tables.docs, ks)) {
          const s = fromRow(r);
          before.set(keyOf(s), s);
        }
      };
      await lock(keys);
      const fresh = keys.filter((k) => !before.has(keyOf(k)));
      if (fresh.length > 0) {
        const states = fresh.map((k) => fold(k, undefined));
        const inserted = await this.write(tx, 'insert', states);
        for (const st of states)
          if (inserted.has(keyOf(st))) latencies.push(...reached(undefined, st));
        // Rows another writer created since the lock: lock them and fold onto them.
        await lock(fresh.filter((k) => !inserted.has(keyOf(k))));
      }
      // Only rows that changed are written: a redelivered batch leaves the table as it was.
      const changed: DocState[] = [];
      for (const k of keys) {
        const old = before.get(keyOf(k));
        if (old === undefined) continue;
        const next = fold(k, old);
        if (JSON.stringify(old) === JSON.stringify(next)) continue;
        changed.push(next);
        latencies.push(...reached(old, next));
      }
      if (changed.length > 0) await this.write(tx, 'update', changed);
      await saveCheckpoint(tx, this.tables.checkpoints, checkpoint.stream, checkpoint.seq);
      // Readers waiting for these documents (read-your-writes) hear of it at commit.
      if (this.tables.docs === documentsTables.docs) {
        const touched = [...fresh, ...changed.map((c) => c as DocKey)];
        if (touched.length > 0) await notifyDocuments(tx, touched);
      }
    });
    // Observed once committed, and only for the live read model (not a replay's shadow).
    if (this.tables.docs === documentsTables.docs)
      for (const l of latencies) stageLatencySeconds.observe({ stage: l.stage }, l.seconds);
  }

  /** Inserts new rows (returning the keys inserted; a conflict is skipped) or updates rows. */
  private async write(tx: Sql, mode: 'insert' | 'update', s: DocState[]): Promise<Set<string>> {
    // postgres.js serialises text arrays reliably; other types are cast from text by the server.
    const col = (f: (x: DocState) => string | number | null): (string | null)[] =>
      s.map((x) => {
        const v = f(x);
        return v === null ? null : String(v);
      });
    const json = (v: unknown): string | null => (v === null ? null : JSON.stringify(v));
    const ints = (xs: number[]): string => `{${xs.join(',')}}`;
    const source = tx`
      SELECT tenant, collection, document_id, version, status, received_version, title, uri, mime_type, metadata,
             content_hash, bytes, received_at, deleted_at, chunked_at, embedded_at, indexed_at, failed_at, chunk_count,
             parts, embedded_parts::int[], indexed_parts::int[], model_id, progress, last_error, facts
      FROM unnest(
        ${col((x) => x.tenant)}::text[], ${col((x) => x.collection)}::text[], ${col((x) => x.documentId)}::text[],
        ${col((x) => x.version)}::text[]::bigint[], ${col((x) => x.status)}::text[], ${col((x) => x.receivedVersion)}::text[]::bigint[],
        ${col((x) => x.title)}::text[], ${col((x) => x.uri)}::text[], ${col((x) => x.mimeType)}::text[],
        ${col((x) => JSON.stringify(x.metadata))}::text[]::jsonb[], ${col((x) => x.contentHash)}::text[], ${col((x) => x.bytes)}::text[]::bigint[],
        ${col((x) => x.receivedAt)}::text[]::timestamptz[], ${col((x) => x.deletedAt)}::text[]::timestamptz[], ${col((x) => x.chunkedAt)}::text[]::timestamptz[],
        ${col((x) => x.embeddedAt)}::text[]::timestamptz[], ${col((x) => x.indexedAt)}::text[]::timestamptz[], ${col((x) => x.failedAt)}::text[]::timestamptz[],
        ${col((x) => x.chunkCount)}::text[]::int[], ${col((x) => x.parts)}::text[]::int[], ${col((x) => ints(x.embeddedParts))}::text[],
        ${col((x) => ints(x.indexedParts))}::text[], ${col((x) => x.modelId)}::text[],
        ${col((x) => JSON.stringify(x.progress))}::text[]::jsonb[], ${col((x) => json(x.lastError))}::text[]::jsonb[],
        ${col((x) => json(x.facts))}::text[]::jsonb[]
      ) AS u(tenant, collection, document_id, version, status, received_version, title, uri, mime_type, metadata, content_hash,
             bytes, received_at, deleted_at, chunked_at, embedded_at, indexed_at, failed_at, chunk_count, parts,
             embedded_parts, indexed_parts, model_id, progress, last_error, facts)`;
    if (mode === 'insert') {
      const rows = await tx<{ tenant: string; collection: string; document_id: string }[]>`
        INSERT INTO ${tx(this.tables.docs)} (tenant, collection, document_id, version, status, received_version, title, uri, mime_type, metadata,
             content_hash, bytes, received_at, deleted_at, chunked_at, embedded_at, indexed_at, failed_at, chunk_count,
             parts, embedded_parts, indexed_parts, model_id, progress, last_error, facts, updated_at)
        SELECT *, now() FROM (${source}) AS s
        ON CONFLICT (tenant, collection, document_id) DO NOTHING
        RETURNING tenant, collection, document_id`;
      return new Set(
        rows.map((r) =>
          keyOf({ tenant: r.tenant, collection: r.collection, documentId: r.document_id }),
        ),
      );
    }
    await tx`
      UPDATE ${tx(this.tables.docs)} AS x SET
        version = s.version, status = s.status, received_version = s.received_version, title = s.title, uri = s.uri,
        mime_type = s.mime_type, metadata = s.metadata, content_hash = s.content_hash, bytes = s.bytes,
        received_at = s.received_at, deleted_at = s.deleted_at, chunked_at = s.chunked_at, embedded_at = s.embedded_at,
        indexed_at = s.indexed_at, failed_at = s.failed_at, chunk_count = s.chunk_count, parts = s.parts,
        embedded_parts = s.embedded_parts, indexed_parts = s.indexed_parts, model_id = s.model_id,
        progress = s.progress, last_error = s.last_error, facts = s.facts, updated_at = now()
      FROM (${source}) AS s
      WHERE x.tenant = s.tenant AND x.collection = s.collection AND x.document_id = s.document_id`;
    return new Set();
  }
}
