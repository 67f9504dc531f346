/** The shapes the dashboard reads from the API (see /docs for the OpenAPI document). */

export interface Me {
  keyId: string;
  tenant: string;
  admin: boolean;
  operator: boolean;
  models: string[];
}

export interface DurableStatus {
  durable: string;
  stream: string;
  pending: number;
  ackPending: number;
  redelivered: number;
  rate: number | null;
  etaSeconds: number | null;
  deadLetters: number;
  state: 'ok' | 'missing';
}

export interface ProcessStatus {
  id: string;
  host: string;
  pid: number;
  roles: string[];
  startedAt: string;
  lastBeatSeconds: number;
  rssBytes: number;
  openBreakers: { dependency: string; since: string; reason: string }[];
}

export interface PipelineStatus {
  at: string;
  durables: DurableStatus[];
  processes: ProcessStatus[];
}

export interface HistoryPoint {
  t: number;
  durables: Record<string, number>;
  documents: { chunked: number; embedded: number; indexed: number };
  chunks: { embedded: number; indexed: number };
  tokens: number;
  search: { count: number; p50: number | null; p99: number | null };
}

export interface Collection {
  name: string;
  documentCount: number;
  chunkCount: number;
  bytes: number;
  lastEventAt: string | null;
  statuses: Record<string, number>;
}

export interface DocumentView {
  collection: string;
  id: string;
  version: number;
  status: string;
  title: string | null;
  uri: string | null;
  mimeType: string | null;
  /** What a parsed file (PDF, HTML, DOCX) says about itself; null for a text document. */
  facts: {
    title?: string;
    language?: string;
    authors?: string[];
    created?: string;
    modified?: string;
  } | null;
  bytes: number;
  chunkCount: number | null;
  modelId: string | null;
  stages: Record<
    'received' | 'chunked' | 'embedded' | 'indexed' | 'failed' | 'deleted',
    string | null
  >;
  lastError: { code: string; message: string; consumer: string; at: string } | null;
  updatedAt: string;
}

export interface ChunkRow {
  modelId: string;
  chunkIndex: number;
  version: number;
  text: string;
  headings: string[];
  /** Pages of a paged file (PDF) the chunk comes from; empty otherwise. */
  pages: number[];
}

export interface LoggedEvent {
  seq: number;
  storedAt: string;
  type: string;
  id: string;
  source: string;
  time: string | null;
  bytes: number;
}

export interface LetterSummary {
  id: number;
  consumer: string;
  stream: string;
  subject: string;
  seq: number;
  code: string;
  message: string;
  attempts: number;
  generation: number;
  failedAt: string;
  tenant?: string;
  type?: string;
  document?: { tenant: string; collection: string; documentId: string };
}

export interface Letter extends LetterSummary {
  history: { attempt: number; at: string; code: string; message: string }[];
  headers: Record<string, string>;
  data: unknown;
  dataEncoding: 'json' | 'base64';
}

export interface RedriveJob {
  id: string;
  status: string;
  redriven: number;
  failed: number;
  scanned: number;
}

export interface SearchHit {
  score: number;
  collection: string;
  documentId: string;
  chunkIndex: number;
  text: string;
  headings: string[];
  pages: number[];
  title: string | null;
}

export interface FusionUsed {
  vectorWeight: number;
  source: string;
}

export interface SearchResponse {
  mode: string;
  model: string;
  tookMs: number;
  fusion?: FusionUsed;
  results: SearchHit[];
}

/** GET /v1/collections/:c/fusion: the weight hybrid search uses, and how it was chosen. */
export interface FusionSetting {
  collection: string;
  model: string;
  vectorWeight: number;
  source: 'self-calibrated' | 'calibrated' | 'configured' | 'default';
  calibration: Record<string, unknown> | null;
  updatedAt: string | null;
}

export interface ModelsView {
  served: { name: string; id: string; dimensions: number; default: boolean }[];
  collections: {
    collection: string;
    active: string | null;
    previous: string | null;
    coverage: Record<string, { documents: number; indexed: number }>;
  }[];
}

export interface ReplayProgress {
  projection: string;
  status: string;
  /** 0…1 over all streams. */
  fraction: number;
  eventsPerSecond: number;
  etaSeconds: number | null;
}
