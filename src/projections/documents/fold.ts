import type { DocumentStatusV1, Metadata } from '../../contracts/index.js';

export type DocumentStatus = 'received' | 'chunked' | 'embedded' | 'indexed' | 'failed' | 'deleted';

export interface DocError {
  code: string;
  message: string;
  consumer: string;
  at: string;
}

/** One row of the documents read model. */
export interface DocState {
  tenant: string;
  collection: string;
  documentId: string;
  version: number;
  status: DocumentStatus;
  receivedVersion: number;
  title: string | null;
  uri: string | null;
  mimeType: string | null;
  metadata: Metadata;
  contentHash: string | null;
  bytes: number;
  receivedAt: string | null;
  deletedAt: string | null;
  chunkedAt: string | null;
  embeddedAt: string | null;
  indexedAt: string | null;
  failedAt: string | null;
  chunkCount: number | null;
  parts: number | null;
  embeddedParts: number[];
  indexedParts: number[];
  modelId: string | null;
  lastError: DocError | null;
}

/** What the documents projection learns from one message of either stream. */
export type DocInput =
  | {
      kind: 'upserted';
      version: number;
      at: string;
      title: string | null;
      uri: string | null;
      mimeType: string;
      metadata: Metadata;
      contentHash: string;
      bytes: number;
    }
  | { kind: 'deleted'; version: number; at: string }
  | { kind: 'status'; status: DocumentStatusV1 };

/** A version's stages before any was reached. */
function noStages(): Pick<
  DocState,
  | 'chunkedAt'
  | 'embeddedAt'
  | 'indexedAt'
  | 'failedAt'
  | 'chunkCount'
  | 'parts'
  | 'embeddedParts'
  | 'indexedParts'
  | 'modelId'
  | 'lastError'
> {
  return {
    chunkedAt: null,
    embeddedAt: null,
    indexedAt: null,
    failedAt: null,
    chunkCount: null,
    parts: null,
    embeddedParts: [],
    indexedParts: [],
    modelId: null,
    lastError: null,
  };
}

export function emptyDoc(tenant: string, collection: string, documentId: string): DocState {
  return {
    tenant,
    collection,
    documentId,
    version: 0,
    status: 'received',
    receivedVersion: 0,
    title: null,
    uri: null,
    mimeType: null,
    metadata: {},
    contentHash: null,
    bytes: 0,
    receivedAt: null,
    deletedAt: null,
    ...noStages(),
  };
}

const union = (xs: number[], x: number | undefined): number[] =>
  x === undefined || xs.includes(x) ? xs : [...xs, x].sort((a, b) => a - b);

const complete = (parts: number | null, done: number[]): boolean =>
  parts !== null && done.length >= parts;

/** The furthest stage the current version reached. */
export function statusOf(s: DocState): DocumentStatus {
  if (s.deletedAt !== null && s.receivedVersion === s.version) return 'deleted';
  if (s.failedAt !== null) return 'failed';
  if (s.indexedAt !== null) return 'indexed';
  if (s.embeddedAt !== null) return 'embedded';
  if (s.chunkedAt !== null) return 'chunked';
  return 'received';
}

/**
 * Applies one input. Inputs may arrive in any order and more than once: anything older
 * than the row's version is ignored, a newer version starts its stages afresh, and the
 * same input applied twice changes nothing (parts are sets, times are set once).
 */
export function applyDoc(state: DocState, input: DocInput): DocState {
  const version = input.kind === 'status' ? input.status.version : input.version;
  if (version < state.version) return state;
  let s: DocState = state;
  if (version > s.version) {
    s = { ...s, version, ...noStages() };
  } else {
    s = { ...s };
  }
  switch (input.kind) {
    case 'upserted':
      if (version >= s.receivedVersion) {
        Object.assign(s, {
          receivedVersion: version,
          receivedAt: input.at,
          deletedAt: null,
          title: input.title,
          uri: input.uri,
          mimeType: input.mimeType,
          metadata: input.metadata,
          contentHash: input.contentHash,
          bytes: input.bytes,
        });
      }
      break;
    case 'deleted':
      // A tombstone keeps nothing of the versions before it: what it would keep depends on
      // whether an older upsert arrived before the deletion or after it (a replay applies
      // batches concurrently), and the row must be the same either way.
      if (version >= s.receivedVersion)
        Object.assign(s, {
          receivedVersion: version,
          receivedAt: input.at,
          deletedAt: input.at,
          title: null,
          uri: null,
          mimeType: null,
          metadata: {},
          contentHash: null,
          bytes: 0,
        });
      break;
    case 'status': {
      const st = input.status;
      if (st.parts !== undefined) s.parts = st.parts;
      if (st.chunkCount !== undefined) s.chunkCount = st.chunkCount;
      if (st.model !== undefined) s.modelId = st.model;
      switch (st.stage) {
        case 'chunked':
          s.chunkedAt ??= st.at;
          break;
        case 'embedded':
          s.embeddedParts = union(s.embeddedParts, st.part);
          if (complete(s.parts, s.embeddedParts)) s.embeddedAt ??= st.at;
          break;
        case 'indexed':
          s.indexedParts = union(s.indexedParts, st.part);
          if (complete(s.parts, s.indexedParts)) s.indexedAt ??= st.at;
          break;
        case 'failed':
          s.failedAt ??= st.at;
          if (st.error) s.lastError = { ...st.error, at: st.at };
          break;
      }
      // Parts may be learnt after some were done (status events race).
      if (complete(s.parts, s.embeddedParts)) s.embeddedAt ??= st.at;
      if (complete(s.parts, s.indexedParts)) s.indexedAt ??= st.at;
      break;
    }
  }
  s.status = statusOf(s);
  return s;
}
