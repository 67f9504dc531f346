import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import Type from 'typebox';
import { DocumentId, Token } from '../../contracts/index.js';
import type { Sql } from '../../db/index.js';
import { SluiceError } from '../../errors/index.js';
import {
  getDocument,
  listCollections,
  listDocuments,
  statusCounts,
  waitForVersion,
  type DocumentWaiters,
  type VersionWait,
} from '../../projections/index.js';
import type { NatsConnection } from '@nats-io/transport-node';
import { documentChunks } from '../../consumers/indexer/index.js';
import { principalOf, routeScope } from '../auth.js';
import { documentEvents } from '../event-log.js';
import {
  CollectionList,
  DocumentList,
  DocumentListQuery,
  DocumentResponse,
  ErrorResponse,
} from '../schemas.js';

const DocumentParams = Type.Object({
  collection: Token,
  id: DocumentId,
});

const DocumentQuery = Type.Object(
  {
    minVersion: Type.Optional(
      Type.Integer({
        minimum: 1,
        description:
          'answer once this version (or a later one) is searchable: 200; failed, or not yet when the wait ends: 409',
      }),
    ),
    wait: Type.Optional(
      Type.String({
        pattern: '^[0-9]{1,5}(ms|s)?$',
        description: 'how long to wait for minVersion: 500ms, 5s (at most 30s); default 0',
      }),
    ),
  },
  { additionalProperties: false },
);

/** Longest read-your-writes wait. */
export const MAX_WAIT_MS = 30_000;

/** "500ms", "5s", "5" (seconds) → milliseconds, at most MAX_WAIT_MS. */
export function waitMs(raw: string | undefined, pointer: string): number {
  if (raw === undefined) return 0;
  const m = /^([0-9]+)(ms|s)?$/.exec(raw)!;
  const ms = Number(m[1]) * (m[2] === 'ms' ? 1 : 1000);
  if (ms > MAX_WAIT_MS)
    throw new SluiceError('REQUEST_INVALID', `wait is at most ${MAX_WAIT_MS / 1000}s`, {
      details: { pointer },
    });
  return ms;
}

/** The answer to a read-your-writes wait that did not end with the version searchable. */
export function notVisible(w: VersionWait, minVersion: number): SluiceError {
  const details = {
    minVersion,
    version: w.doc?.version ?? null,
    status: w.doc?.status ?? 'unknown',
  };
  return w.outcome === 'failed'
    ? new SluiceError('DOCUMENT_FAILED', `version ${w.doc!.version} of the document failed`, {
        details: { ...details, lastError: w.doc!.lastError },
      })
    : new SluiceError(
        'NOT_YET_INDEXED',
        `the document is not searchable at version ${minVersion} yet (${details.status} at ${details.version ?? 'no version'})`,
        { details },
      );
}

/** The read models: a document's status, documents page by page, collections and their statistics. */
export function registerDocumentRoutes(
  app: FastifyInstance,
  sql: Sql,
  waiters?: DocumentWaiters,
  log?: { nc: NatsConnection; namespace: string },
): void {
  app.get<{ Params: Static<typeof DocumentParams> }>(
    '/v1/documents/:collection/:id/chunks',
    {
      config: routeScope.plain,
      schema: {
        tags: ['documents'],
        summary: "A document's chunks as each model's index holds them (text, headings, version)",
        params: DocumentParams,
      },
    },
    async (request) => {
      const { tenant } = principalOf(request);
      return {
        items: await documentChunks(sql, {
          tenant,
          collection: request.params.collection,
          documentId: request.params.id,
        }),
      };
    },
  );
  if (log)
    app.get<{ Params: Static<typeof DocumentParams> }>(
      '/v1/documents/:collection/:id/events',
      {
        config: routeScope.plain,
        schema: {
          tags: ['documents'],
          summary:
            "A document's events from the event log, oldest first (the last 100): version (stream sequence), type, id, source, time",
          params: DocumentParams,
        },
      },
      async (request) => {
        const { tenant } = principalOf(request);
        return {
          items: await documentEvents(log.nc, log.namespace, {
            tenant,
            collection: request.params.collection,
            documentId: request.params.id,
          }),
        };
      },
    );

  app.get<{ Params: Static<typeof DocumentParams>; Querystring: Static<typeof DocumentQuery> }>(
    '/v1/documents/:collection/:id',
    {
      config: routeScope.plain,
      schema: {
        tags: ['documents'],
        summary: "A document's version, attributes and status per stage (URL-encode ids with /)",
        description:
          'With minVersion, waits (up to `wait`) until that version or a later one is searchable, ' +
          'woken by the projection, not by polling: 200 with the row; 409 NOT_YET_INDEXED or DOCUMENT_FAILED.',
        params: DocumentParams,
        querystring: DocumentQuery,
        response: {
          200: DocumentResponse,
          400: ErrorResponse,
          401: ErrorResponse,
          404: ErrorResponse,
          409: ErrorResponse,
        },
      },
    },
    async (request) => {
      const { tenant } = principalOf(request);
      const { minVersion } = request.query;
      if (minVersion !== undefined && waiters) {
        const w = await waitForVersion(
          waiters,
          { tenant, collection: request.params.collection, documentId: request.params.id },
          minVersion,
          waitMs(request.query.wait, '/query/wait'),
        );
        if (w.outcome !== 'visible') throw notVisible(w, minVersion);
        return w.doc;
      }
      const doc = await getDocument(sql, tenant, request.params.collection, request.params.id);
      if (!doc)
        throw new SluiceError(
          'NOT_FOUND',
          `no document '${request.params.id}' in '${request.params.collection}'`,
        );
      return doc;
    },
  );

  app.get<{ Querystring: Static<typeof DocumentListQuery> }>(
    '/v1/documents',
    {
      config: routeScope.plain,
      schema: {
        tags: ['documents'],
        summary:
          'Documents in (collection, id) order; pass `next` back as `cursor` for the next page',
        querystring: DocumentListQuery,
        response: { 200: DocumentList, 400: ErrorResponse, 401: ErrorResponse },
      },
    },
    async (request) => {
      const { tenant } = principalOf(request);
      const q = request.query;
      return listDocuments(sql, tenant, {
        limit: q.limit,
        ...(q.collection === undefined ? {} : { collection: q.collection }),
        ...(q.status === undefined ? {} : { status: q.status }),
        ...(q.cursor === undefined ? {} : { cursor: q.cursor }),
      });
    },
  );

  app.get(
    '/v1/collections',
    {
      config: routeScope.plain,
      schema: {
        tags: ['documents'],
        summary: "The caller's collections with their statistics and documents per status",
        response: { 200: CollectionList, 401: ErrorResponse },
      },
    },
    async (request) => {
      const { tenant } = principalOf(request);
      const [collections, statuses] = await Promise.all([
        listCollections(sql, tenant),
        statusCounts(sql, tenant),
      ]);
      return {
        items: collections.map((c) => ({ ...c, statuses: statuses.get(c.name) ?? {} })),
      };
    },
  );
}
