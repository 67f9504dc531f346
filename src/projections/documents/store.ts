import type { Sql } from '../../db/index.js';
import { saveCheckpoint } from '../checkpoint.js';
import { documentsTables, type DocumentsTables } from '../tables.js';
import { applyDoc, emptyDoc, type DocInput, type DocState } from './fold.js';

export interface DocKey {
  tenant: string;
  collection: string;
  documentId: string;
}

const keyOf = (k: DocKey): string => `${k.tenant}\u0000${k.collection}\u0000${k.documentId}`;

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
  last_error: DocState['lastError'];
}

// postgres.js gives Dates for timestamptz, except where a row came back from a locking join as text.
const iso = (d: Date | string | null): string | null =>
  d === null ? null : new Date(d).toISOString();

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
    lastError: r.last_error,
  };
}

/**
 * Writes the documents read model: per batch, the rows it touches are locked (in key
 * order), folded in memory, and written back in one statement with the checkpoint, in
 * one transaction.
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
    const keys = new Map<string, DocKey>();
    for (const { key } of items) keys.set(keyOf(key), key);
    const sorted = [...keys.values()].sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
    const t = sorted.map((k) => k.tenant);
    const c = sorted.map((k) => k.collection);
    const d = sorted.map((k) => k.documentId);
    const docs = this.tables.docs;
    await this.sql.begin(async (txn) => {
      const tx = txn as unknown as Sql;
      if (sorted.length > 0) {
        // Rows first exist (so that concurrent writers lock the same rows), then are locked.
        await tx`
          INSERT INTO ${tx(docs)} (tenant, collection, document_id, version, status)
          SELECT t, c, d, 0, 'received' FROM unnest(${t}::text[], ${c}::text[], ${d}::text[]) AS u(t, c, d)
          ON CONFLICT DO NOTHING`;
        const rows = await tx<Row[]>`
          SELECT x.* FROM ${tx(docs)} x
          JOIN unnest(${t}::text[], ${c}::text[], ${d}::text[]) AS u(t, c, d)
            ON x.tenant = u.t AND x.collection = u.c AND x.document_id = u.d
          ORDER BY x.tenant, x.collection, x.document_id
          FOR UPDATE OF x`;
        const before = new Map(
          rows.map((r) => [
            keyOf({ tenant: r.tenant, collection: r.collection, documentId: r.document_id }),
            fromRow(r),
          ]),
        );
        const states = new Map(before);
        for (const { key, input } of items) {
          const k = keyOf(key);
          states.set(
            k,
            applyDoc(states.get(k) ?? emptyDoc(key.tenant, key.collection, key.documentId), input),
          );
        }
        // Only rows that changed are written: a redelivered batch leaves the table as it was.
        const changed = [...states.entries()]
          .filter(([k, v]) => JSON.stringify(before.get(k)) !== JSON.stringify(v))
          .map(([, v]) => v);
        if (changed.length > 0) await this.write(tx, changed);
      }
      await saveCheckpoint(tx, this.tables.checkpoints, checkpoint.stream, checkpoint.seq);
    });
  }

  private async write(tx: Sql, s: DocState[]): Promise<void> {
    // postgres.js serialises text arrays reliably; other types are cast from text by the server.
    const col = (f: (x: DocState) => string | number | null): (string | null)[] =>
      s.map((x) => {
        const v = f(x);
        return v === null ? null : String(v);
      });
    const json = (v: unknown): string | null => (v === null ? null : JSON.stringify(v));
    const ints = (xs: number[]): string => `{${xs.join(',')}}`;
    await tx`
      INSERT INTO ${tx(this.tables.docs)} AS x (tenant, collection, document_id, version, status, received_version, title, uri,
        mime_type, metadata, content_hash, bytes, received_at, deleted_at, chunked_at, embedded_at, indexed_at, failed_at,
        chunk_count, parts, embedded_parts, indexed_parts, model_id, last_error, updated_at)
      SELECT tenant, collection, document_id, version, status, received_version, title, uri, mime_type, metadata,
             content_hash, bytes, received_at, deleted_at, chunked_at, embedded_at, indexed_at, failed_at, chunk_count,
             parts, embedded_parts::int[], indexed_parts::int[], model_id, last_error, now()
      FROM unnest(
        ${col((x) => x.tenant)}::text[], ${col((x) => x.collection)}::text[], ${col((x) => x.documentId)}::text[],
        ${col((x) => x.version)}::text[]::bigint[], ${col((x) => x.status)}::text[], ${col((x) => x.receivedVersion)}::text[]::bigint[],
        ${col((x) => x.title)}::text[], ${col((x) => x.uri)}::text[], ${col((x) => x.mimeType)}::text[],
        ${col((x) => JSON.stringify(x.metadata))}::text[]::jsonb[], ${col((x) => x.contentHash)}::text[], ${col((x) => x.bytes)}::text[]::bigint[],
        ${col((x) => x.receivedAt)}::text[]::timestamptz[], ${col((x) => x.deletedAt)}::text[]::timestamptz[], ${col((x) => x.chunkedAt)}::text[]::timestamptz[],
        ${col((x) => x.embeddedAt)}::text[]::timestamptz[], ${col((x) => x.indexedAt)}::text[]::timestamptz[], ${col((x) => x.failedAt)}::text[]::timestamptz[],
        ${col((x) => x.chunkCount)}::text[]::int[], ${col((x) => x.parts)}::text[]::int[], ${col((x) => ints(x.embeddedParts))}::text[],
        ${col((x) => ints(x.indexedParts))}::text[], ${col((x) => x.modelId)}::text[], ${col((x) => json(x.lastError))}::text[]::jsonb[]
      ) AS u(tenant, collection, document_id, version, status, received_version, title, uri, mime_type, metadata, content_hash,
             bytes, received_at, deleted_at, chunked_at, embedded_at, indexed_at, failed_at, chunk_count, parts,
             embedded_parts, indexed_parts, model_id, last_error)
      ON CONFLICT (tenant, collection, document_id) DO UPDATE SET
        version = EXCLUDED.version, status = EXCLUDED.status, received_version = EXCLUDED.received_version,
        title = EXCLUDED.title, uri = EXCLUDED.uri, mime_type = EXCLUDED.mime_type, metadata = EXCLUDED.metadata,
        content_hash = EXCLUDED.content_hash, bytes = EXCLUDED.bytes, received_at = EXCLUDED.received_at,
        deleted_at = EXCLUDED.deleted_at, chunked_at = EXCLUDED.chunked_at, embedded_at = EXCLUDED.embedded_at,
        indexed_at = EXCLUDED.indexed_at, failed_at = EXCLUDED.failed_at, chunk_count = EXCLUDED.chunk_count,
        parts = EXCLUDED.parts, embedded_parts = EXCLUDED.embedded_parts, indexed_parts = EXCLUDED.indexed_parts,
        model_id = EXCLUDED.model_id, last_error = EXCLUDED.last_error, updated_at = now()`;
  }
}
