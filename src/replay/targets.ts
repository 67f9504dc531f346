import type { NatsConnection } from '@nats-io/transport-node';
import type { BatchHandler } from '../runtime/consumer.js';
import { PipelinePublisher } from '../runtime/publisher.js';
import { indexerHandler } from '../consumers/indexer/indexer-handler.js';
import { hnswIndexSql, indexTables, VectorIndex } from '../consumers/indexer/store.js';
import type { Sql } from '../db/index.js';
import { LIVE, qualified } from '../db/shadow.js';
import { CollectionsStore } from '../projections/collections/store.js';
import { DocumentsStore } from '../projections/documents/store.js';
import {
  collectionsSources,
  documentsSources,
  projectionHandler,
} from '../projections/projector.js';
import { collectionsTables, documentsTables } from '../projections/tables.js';
import { Subjects, streamName, type StreamKey } from '../topology/index.js';

export const replayables = ['documents', 'collections', 'index'] as const;
export type Replayable = (typeof replayables)[number];

export interface ReplayTarget {
  name: Replayable;
  /** Live tables the replay rebuilds and swaps. */
  tables: string[];
  /** Streams it reads; the first is the primary one (--from-seq counts there). */
  streams: StreamKey[];
  /** The live consumers' handler for a stream, writing to the tables in `schema`. */
  handler(stream: StreamKey, schema: string): BatchHandler;
  /** Indexes the live tables may lack (HNSW of models that only the replay saw). */
  extraIndexes?(schema: string): Promise<string[]>;
  /** Bulk work on the loaded shadow tables before their indexes are built. */
  beforeIndexes?(schema: string): Promise<void>;
}

const tablesIn = <T extends object>(t: T, schema: string): T =>
  Object.fromEntries(
    Object.entries(t as Record<string, string>).map(([k, v]) => [k, qualified(schema, v)]),
  ) as T;

/**
 * What can be replayed, each with the same handlers its live consumers use: a replay is
 * the live consumer pointed at other tables, with a stop condition.
 */
export function replayTarget(
  name: Replayable,
  sql: Sql,
  nc: NatsConnection,
  namespace: string,
): ReplayTarget {
  const subjects = new Subjects(namespace);
  switch (name) {
    case 'documents':
      return {
        name,
        tables: Object.values(documentsTables),
        streams: ['events', 'status'],
        handler: (stream, schema) => {
          const source = documentsSources(
            subjects,
            new DocumentsStore(sql, tablesIn(documentsTables, schema)),
          ).find((x) => x.stream === stream)!;
          return projectionHandler(source, streamName(namespace, stream));
        },
      };
    case 'collections':
      return {
        name,
        tables: Object.values(collectionsTables),
        streams: ['events', 'status'],
        handler: (stream, schema) => {
          const source = collectionsSources(
            subjects,
            new CollectionsStore(sql, tablesIn(collectionsTables, schema)),
          ).find((x) => x.stream === stream)!;
          return projectionHandler(source, streamName(namespace, stream));
        },
      };
    case 'index': {
      const tables = indexTables;
      return {
        name,
        tables: Object.values(tables) as string[],
        streams: ['vectors'],
        handler: (_stream, schema) =>
          indexerHandler({
            subjects,
            publisher: new PipelinePublisher({ nc, source: 'urn:sluice:replay' }),
            // The shadow gets its HNSW indexes and its keyword index once loaded (see
            // beforeIndexes); live tables keep both current.
            index: new VectorIndex(
              sql,
              tablesIn(tables, schema),
              schema === LIVE,
              schema === LIVE ? 'maintain' : 'deferred',
            ),
            emitStatus: false,
          }),
        beforeIndexes: (schema) =>
          new VectorIndex(sql, tablesIn(tables, schema), false).rebuildKeywords(),
        extraIndexes: async (schema) => {
          const models = await sql<{ model_id: string; dims: number }[]>`
            SELECT DISTINCT ON (model_id) model_id, vector_dims(embedding) AS dims
            FROM ${sql(qualified(schema, tables.chunks))} ORDER BY model_id`;
          return models.map((m) =>
            hnswIndexSql(m.model_id, m.dims, qualified(schema, tables.chunks)),
          );
        },
      };
    }
  }
}
