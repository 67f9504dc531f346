import type { DocumentStatusV1, Metadata } from '../../contracts/index.js';

/** What a parsed file says about itself: title, language, authors, dates (where the format has them). */
export type DocumentFacts = NonNullable<DocumentStatusV1['facts']>;

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
  /**
   * Parts embedded (e) and indexed (i) by each model, for the current version. A
   * stage is reached when one model has every part: parts of two models do not add up.
   */
  progress: Record<string, { e: number[]; i: number[] }>;
  lastError: DocError | null;
  /**
   * The current version's facts, from its chunked status: null for a text document and a
   * file whose format said nothing. Kept apart from `title`, which is the one the event gave.
   */
  facts: DocumentFacts | null;
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
      /** Called when this version is indexed (the output role's concern; the fold ignores it). */
      callbackUrl?: string;
    }
  | { kind: 'deleted'; version: number; at: string }
  | { kind: 'status'; status: DocumentStatusV1 };

/** A version's stages, and the facts its chunking carries, before any was reached. */
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
  | 'progress'
  | 'lastError'
  | 'facts'
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
    progress: {},
    lastError: null,
    facts: null,
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

const sorted = (f: DocumentFacts): [string, unknown][] =>
  Object.entries(f).sort(([a], [b]) => (a < b ? -1 : 1));

const sameFacts = (a: DocumentFacts | null, b: DocumentFacts): boolean =>
  a !== null && JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));

const union = (xs: number[], x: number | undefined): number[] =>
  x === undefined || xs.includes(x) ? xs : [...xs, x].sort((a, b) => a - b);

const complete = (parts: number | null, done: number[]): boolean =>
  parts !== null && done.length >= parts;

/**
 * The furthest stage the current version reached. Indexed wins over failed: a version
 * one stage dead-lettered and that was then redriven and indexed is searchable.
 */
export function statusOf(s: DocState): DocumentStatus {
  if (s.deletedAt !== null && s.receivedVersion === s.version) return 'deleted';
  if (s.indexedAt !== null) return 'indexed';
  if (s.failedAt !== null) return 'failed';
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
      const model = st.model ?? '';
      const track = (kind: 'e' | 'i'): void => {
        const p = s.progress[model] ?? { e: [], i: [] };
        s.progress = { ...s.progress, [model]: { ...p, [kind]: union(p[kind], st.part) } };
      };
      switch (st.stage) {
        case 'chunked':
          s.chunkedAt ??= st.at;
          // Kept when equal: facts read back from jsonb have their keys in another order, and a
          // redelivered status must leave the row as it was.
          if (st.facts !== undefined && !sameFacts(s.facts, st.facts)) s.facts = st.facts;
          break;
        case 'embedded':
          track('e');
          break;
        case 'indexed':
          track('i');
          break;
        case 'failed':
          s.failedAt ??= st.at;
          if (st.error) s.lastError = { ...st.error, at: st.at };
          break;
      }
      // A stage is reached when one model has every part (parts may be learnt after
      // some were done: status events race).
      const best = (kind: 'e' | 'i'): [string, number[]] | undefined =>
        Object.entries(s.progress)
          .map(([m, p]) => [m, p[kind]] as [string, number[]])
          .sort((a, b) => b[1].length - a[1].length || a[0].localeCompare(b[0]))[0];
      const e = best('e');
      const i = best('i');
      s.embeddedParts = e?.[1] ?? [];
      s.indexedParts = i?.[1] ?? [];
      if (complete(s.parts, s.embeddedParts)) s.embeddedAt ??= st.at;
      if (complete(s.parts, s.indexedParts)) {
        s.indexedAt ??= st.at;
        s.modelId = i![0] || s.modelId;
      } else if (st.model !== undefined && s.indexedAt === null) s.modelId = st.model;
      break;
    }
  }
  s.status = statusOf(s);
  return s;
}
