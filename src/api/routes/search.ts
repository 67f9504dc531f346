import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import { search } from '../../consumers/indexer/search.js';
import type { Sql } from '../../db/index.js';
import { SluiceError } from '../../errors/index.js';
import type { Embedder } from '../../models/index.js';
import { collectionExists } from '../../projections/index.js';
import { activeModel } from '../active-models.js';
import { principalOf } from '../auth.js';
import { ErrorResponse, SearchRequest, SearchResponse } from '../schemas.js';

export interface SearchRouteOptions {
  sql: Sql;
  /** Served models by name; the first is the default. */
  models: Map<string, Embedder>;
  defaultModel: string;
}

export function registerSearchRoute(app: FastifyInstance, o: SearchRouteOptions): void {
  // Active models, remembered for two seconds: an activation reaches every API process
  // that quickly, and searches do not pay a query for it.
  const cache = new Map<string, { model: string | undefined; at: number }>();
  const active = async (tenant: string, collection: string): Promise<string | undefined> => {
    const key = `${tenant}\u0000${collection}`;
    const hit = cache.get(key);
    if (hit && Date.now() - hit.at < 2_000) return hit.model;
    const model = await activeModel(o.sql, tenant, collection);
    if (cache.size > 10_000) cache.clear();
    cache.set(key, { model, at: Date.now() });
    return model;
  };

  app.post<{ Body: Static<typeof SearchRequest> }>(
    '/v1/search',
    {
      schema: {
        tags: ['search'],
        summary: 'Search chunks: vector, keyword or hybrid (reciprocal rank fusion)',
        body: SearchRequest,
        response: {
          200: SearchResponse,
          400: ErrorResponse,
          401: ErrorResponse,
          404: ErrorResponse,
          429: ErrorResponse,
        },
      },
    },
    async (request) => {
      const started = performance.now();
      const { tenant } = principalOf(request);
      const body = request.body;
      // The request's model, else the collection's active one, else the default.
      const name =
        body.model ??
        (body.collection === undefined ? undefined : await active(tenant, body.collection)) ??
        o.defaultModel;
      const embedder = o.models.get(name);
      if (!embedder) {
        throw new SluiceError(
          'MODEL_UNKNOWN',
          `model '${name}' is not served here; served: ${[...o.models.keys()].join(', ')}`,
          {
            details: { pointer: '/model' },
          },
        );
      }
      const vector =
        body.mode === 'keyword'
          ? undefined
          : (await embedder.embed([body.query], { truncate: true }))[0];
      const results = await search(o.sql, {
        tenant,
        ...(body.collection === undefined ? {} : { collection: body.collection }),
        modelId: embedder.spec.id,
        dimensions: embedder.spec.dimensions,
        mode: body.mode,
        query: body.query,
        ...(vector === undefined ? {} : { vector }),
        k: body.k,
        ...(body.filter === undefined ? {} : { filter: body.filter }),
      });
      // An empty answer may mean the collection does not exist: say so (checked only then).
      if (
        results.length === 0 &&
        body.collection !== undefined &&
        !(await collectionExists(o.sql, tenant, body.collection))
      ) {
        throw new SluiceError('NOT_FOUND', `no collection '${body.collection}'`, {
          details: { pointer: '/collection' },
        });
      }
      return {
        mode: body.mode,
        model: embedder.spec.id,
        tookMs: Math.round((performance.now() - started) * 100) / 100,
        results,
      };
    },
  );
}
