import type { Sql } from '../db/index.js';
import { tablesIn } from '../db/index.js';
import type { ReplayTarget } from '../runtime/index.js';
import { Subjects, streamName } from '../topology/index.js';
import { CollectionsStore } from './collections/store.js';
import { DocumentsStore } from './documents/store.js';
import { collectionsSources, documentsSources, projectionHandler } from './projector.js';
import { collectionsTables, documentsTables } from './tables.js';

/** The documents projection, replayable: its live handlers writing to `schema`. */
export function documentsReplayTarget(sql: Sql, namespace: string): ReplayTarget<'documents'> {
  const subjects = new Subjects(namespace);
  return {
    name: 'documents',
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
}

/** The collections projection, replayable. */
export function collectionsReplayTarget(sql: Sql, namespace: string): ReplayTarget<'collections'> {
  const subjects = new Subjects(namespace);
  return {
    name: 'collections',
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
}
