import type { Sql } from '../../db/index.js';
import { SluiceError } from '../../errors/index.js';
import { iso } from '../rows.js';
import { documentsTables } from '../tables.js';
import type { DocumentFacts, DocumentStatus } from './fold.js';

export interface DocumentView {
  /** The owner; not part of the API's answer. */
  tenant: string;
  collection: string;
  id: string;
  version: number;
  status: DocumentStatus;
  /** The title the event gave, else the one the parsed file has. */
  title: string | null;
  uri: string | null;
  mimeType: string | null;
  metadata: Record<string, unknown>;
  /** What a parsed file says about itself; null for a text document. */
  facts: DocumentFacts | null;
  contentHash: string | null;
  bytes: number;
  chunkCount: number | null;
  modelId: string | null;
  stages: {
    received: string | null;
    chunked: string | null;
    embedded: string | null;
    indexed: string | null;
    failed: string | null;
    deleted: string | null;
  };
  lastError: { code: string; message: string; consumer: string; at: string } | null;
  updatedAt: string;
}

interface Row {
  tenant: string;
  collection: string;
  document_id: string;
  version: string;
  status: DocumentStatus;
  title: string | null;
  uri: string | null;
  mime_type: string | null;
  metadata: Record<string, unknown>;
  facts: DocumentFacts | null;
  content_hash: string | null;
  bytes: string;
  chunk_count: number | null;
  model_id: string | null;
  received_at: Date | string | null;
  chunked_at: Date | string | null;
  embedded_at: Date | string | null;
  indexed_at: Date | string | null;
  failed_at: Date | string | null;
  deleted_at: Date | string | null;
  last_error: DocumentView['lastError'];
  updated_at: Date | string;
}

function view(r: Row): DocumentView {
  return {
    tenant: r.tenant,
    collection: r.collection,
    id: r.document_id,
    version: Number(r.version),
    status: r.status,
    title: r.title ?? r.facts?.title ?? null,
    uri: r.uri,
    mimeType: r.mime_type,
    metadata: r.metadata,
    facts: r.facts,
    contentHash: r.content_hash,
    bytes: Number(r.bytes),
    chunkCount: r.chunk_count,
    modelId: r.model_id,
    stages: {
      received: iso(r.received_at),
      chunked: iso(r.chunked_at),
      embedded: iso(r.embedded_at),
      indexed: iso(r.indexed_at),
      failed: iso(r.failed_at),
      deleted: iso(r.deleted_at),
    },
    lastError: r.last_error,
    updatedAt: iso(r.updated_at)!,
  };
}

export async function getDocument(
  sql: Sql,
  tenant: string,
  collection: string,
  id: string,
): Promise<DocumentView | undefined> {
  const [row] = await sql<Row[]>`
    SELECT * FROM ${sql(documentsTables.docs)}
    WHERE tenant = ${tenant} AND collection = ${collection} AND document_id = ${id} AND version > 0`;
  return row === undefined ? undefined : view(row);
}

/** Several documents in one query (read-your-writes re-reads the waited ones together). */
export async function getDocuments(
  sql: Sql,
  keys: { tenant: string; collection: string; documentId: string }[],
): Promise<DocumentView[]> {
  if (keys.length === 0) return [];
  const rows = await sql<Row[]>`
    SELECT d.* FROM ${sql(documentsTables.docs)} d
    JOIN unnest(${keys.map((k) => k.tenant)}::text[], ${keys.map((k) => k.collection)}::text[],
                ${keys.map((k) => k.documentId)}::text[]) AS u(t, c, i)
      ON d.tenant = u.t AND d.collection = u.c AND d.document_id = u.i
    WHERE d.version > 0`;
  return rows.map(view);
}

export interface ListOptions {
  collection?: string;
  status?: DocumentStatus;
  /** Opaque: from the previous page's `next`. */
  cursor?: string;
  limit: number;
}

/** Keyset cursor (collection, id): pages never shift when documents are added meanwhile. */
function decodeCursor(cursor: string): [string, string] {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string')
      return [v[0], v[1]];
  } catch {
    // fall through
  }
  throw new SluiceError('REQUEST_INVALID', 'cursor is not one this API gave out', {
    details: { pointer: '/query/cursor' },
  });
}

export async function listDocuments(
  sql: Sql,
  tenant: string,
  o: ListOptions,
): Promise<{ items: DocumentView[]; next: string | null }> {
  const after = o.cursor === undefined ? undefined : decodeCursor(o.cursor);
  const rows = await sql<Row[]>`
    SELECT * FROM ${sql(documentsTables.docs)}
    WHERE tenant = ${tenant} AND version > 0
      ${o.collection === undefined ? sql`` : sql`AND collection = ${o.collection}`}
      ${o.status === undefined ? sql`` : sql`AND status = ${o.status}`}
      ${after === undefined ? sql`` : sql`AND (collection, document_id) > (${after[0]}, ${after[1]})`}
    ORDER BY collection, document_id
    LIMIT ${o.limit + 1}`;
  const items = rows.slice(0, o.limit).map(view);
  const last = items[items.length - 1];
  const next =
    rows.length > o.limit && last
      ? Buffer.from(JSON.stringify([last.collection, last.id])).toString('base64url')
      : null;
  return { items, next };
}

/** Documents per status, per collection of a tenant (the index on tenant, collection, status answers it). */
export async function statusCounts(
  sql: Sql,
  tenant: string,
): Promise<Map<string, Record<string, number>>> {
  const rows = await sql<{ collection: string; status: string; n: number }[]>`
    SELECT collection, status, count(*)::int AS n FROM proj_documents
    WHERE tenant = ${tenant} GROUP BY collection, status`;
  const out = new Map<string, Record<string, number>>();
  for (const r of rows) {
    const c = out.get(r.collection) ?? {};
    c[r.status] = r.n;
    out.set(r.collection, c);
  }
  return out;
}
