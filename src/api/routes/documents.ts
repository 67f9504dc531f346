import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import Type from 'typebox';
import { Token } from '../../contracts/index.js';
import type { Sql } from '../../db/index.js';
import { SluiceError } from '../../errors/index.js';
import { getDocument, listCollections, listDocuments } from '../../projections/index.js';
import { principalOf } from '../auth.js';
import {
  CollectionList,
  DocumentList,
  DocumentListQuery,
  DocumentResponse,
  ErrorResponse,
} from '../schemas.js';

const DocumentParams = Type.Object({
  collection: Token,
  id: Type.String({ minLength: 1, maxLength: 1024 }),
});

/** The read models: a document's status, documents page by page, collections and their statistics. */
export function registerDocumentRoutes(app: FastifyInstance, sql: Sql): void {
  app.get<{ Params: Static<typeof DocumentParams> }>(
    '/v1/documents/:collection/:id',
    {
      schema: {
        tags: ['documents'],
        summary: "A document's version, attributes and status per stage (URL-encode ids with /)",
        params: DocumentParams,
        response: {
          200: DocumentResponse,
          400: ErrorResponse,
          401: ErrorResponse,
          404: ErrorResponse,
        },
      },
    },
    async (request) => {
      const { tenant } = principalOf(request);
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
      schema: {
        tags: ['documents'],
        summary: "The caller's collections with their statistics",
        response: { 200: CollectionList, 401: ErrorResponse },
      },
    },
    async (request) => ({ items: await listCollections(sql, principalOf(request).tenant) }),
  );
}
