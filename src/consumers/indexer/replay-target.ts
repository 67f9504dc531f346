import type { NatsConnection } from '@nats-io/transport-node';
import type { Sql } from '../../db/index.js';
import { LIVE, qualified, tablesIn } from '../../db/index.js';
import { PipelinePublisher } from '../../runtime/index.js';
import type { ReplayTarget } from '../../runtime/index.js';
import { Subjects } from '../../topology/index.js';
import { indexerHandler } from './indexer-handler.js';
import { hnswIndexSql, indexTables, VectorIndex } from './store.js';

/** The vector and keyword index, replayable from the vectors stream. */
export function indexReplayTarget(
  sql: Sql,
  nc: NatsConnection,
  namespace: string,
): ReplayTarget<'index'> {
  const subjects = new Subjects(namespace);
  const tables = indexTables;
  return {
    name: 'index',
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
      return models.map((m) => hnswIndexSql(m.model_id, m.dims, qualified(schema, tables.chunks)));
    },
  };
}
