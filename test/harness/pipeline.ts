import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Config } from '../../src/config/index.js';
import type { Sql } from '../../src/db/index.js';
import { STATIC_MODEL, RANDOM_MODEL, hasModel, testModelsDir } from './models.js';
import { testConfig } from './config.js';

/** The model pipeline tests run: the static one (fast, meaningful) when present. */
export const pipelineModel = hasModel(STATIC_MODEL) ? STATIC_MODEL : RANDOM_MODEL;

/** A configuration for running roles in a test: its own namespace and database, quick retries. */
export function pipelineConfig(databaseUrl: string, overrides: Partial<Config> = {}): Config {
  return testConfig({
    databaseUrl,
    modelsDir: testModelsDir(),
    models: [pipelineModel],
    roles: ['chunker', 'embedder', 'indexer'],
    ackWait: 5_000,
    retryBackoff: 500,
    embedThreads: 2,
    ...overrides,
  });
}

export async function until(
  check: () => Promise<boolean> | boolean,
  timeoutMs = 60_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface IndexedDoc {
  document_id: string;
  version: number;
  deleted: boolean;
  chunk_count: number;
  rows: number;
  max_index: number | null;
  stale_rows: number;
}

/** Every document the index knows, with its chunk rows counted. */
export async function indexedDocs(sql: Sql): Promise<Map<string, IndexedDoc>> {
  const rows = await sql<IndexedDoc[]>`
    SELECT d.document_id, d.version::int AS version, d.deleted, d.chunk_count,
           count(c.chunk_index)::int AS rows, max(c.chunk_index) AS max_index,
           count(c.chunk_index) FILTER (WHERE c.version <> d.version)::int AS stale_rows
    FROM index_documents d
    LEFT JOIN index_chunks c USING (model_id, tenant, collection, document_id)
    GROUP BY d.document_id, d.version, d.deleted, d.chunk_count`;
  return new Map(rows.map((r) => [r.document_id, r]));
}

/**
 * Whether a namespace's whole pipeline is idle: every consumer of its streams that is
 * consumed from has acknowledged everything it was given, and no stream grew while that
 * was checked. A
 * stage publishes its output before it acks its input, so a message in flight shows
 * either as a consumer's pending work or as a stream that grew during the look.
 */
export async function pipelineIdle(nc: NatsConnection, namespace: string): Promise<boolean> {
  const jsm = await jetstreamManager(nc);
  const prefix = `${namespace.toUpperCase()}_`;
  const lastSeqs = async (): Promise<string> => {
    const seqs: string[] = [];
    for await (const s of jsm.streams.list())
      if (s.config.name.startsWith(prefix)) seqs.push(`${s.config.name}:${s.state.last_seq}`);
    return seqs.sort().join(',');
  };
  const before = await lastSeqs();
  for await (const s of jsm.streams.list()) {
    if (!s.config.name.startsWith(prefix)) continue;
    for await (const c of jsm.consumers.list(s.config.name)) {
      // A durable of a role that does not run here (declared with the topology, never
      // pulled from) is not part of this pipeline.
      const consumed = c.delivered.stream_seq > 0 || c.num_waiting > 0;
      if (consumed && (c.num_pending > 0 || c.num_ack_pending > 0)) return false;
    }
  }
  return (await lastSeqs()) === before;
}

/** Waits until pipelineIdle holds. */
export async function untilIdle(
  nc: NatsConnection,
  namespace: string,
  timeoutMs = 120_000,
): Promise<void> {
  await until(() => pipelineIdle(nc, namespace), timeoutMs, `namespace ${namespace} idle`);
}
