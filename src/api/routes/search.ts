import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import { DEFAULT_VECTOR_WEIGHT } from '../../consumers/indexer/index.js';
import { getFusion } from '../../consumers/indexer/index.js';
import { queryTerms, search } from '../../consumers/indexer/index.js';
import type { KeywordMemory, SelfCalibrator } from '../../consumers/indexer/index.js';
import type { Sql } from '../../db/index.js';
import { SluiceError } from '../../errors/index.js';
import type { Embedder } from '../../models/index.js';
import { collectionExists, waitForVersion, type DocumentWaiters } from '../../projections/index.js';
import { activeModel } from '../active-models.js';
import { principalOf, routeScope } from '../auth.js';
import { QueryEmbedding, type QueryEmbeddingOptions } from '../query-embedding.js';
import type { FusionUsed } from '../schemas.js';
import { notVisible } from './documents.js';
import { inSpan } from '../../tracing/index.js';
import { ErrorResponse, SearchRequest, SearchResponse } from '../schemas.js';
import { cached } from './cached.js';
import { registerFusionRoutes, sourceOf } from './fusion.js';

export interface SearchRouteOptions {
  sql: Sql;
  /** Served models by name; the first is the default. */
  models: Map<string, Embedder>;
  defaultModel: string;
  /** Postings read per keyword query term in the first round (SLUICE_KEYWORD_DEPTH). @defaultValue 1000 */
  keywordDepth?: number;
  /** Keyword posting lists held in memory (SLUICE_KEYWORD_MEMORY); none: SQL answers alone. */
  keywordMemory?: KeywordMemory;
  /** Self-calibration of fusion weights (POST …/fusion/calibrate); none: that route is absent. */
  calibrator?: SelfCalibrator;
  /** Bound and timeout of the queries waiting to be embedded, per model. */
  queryEmbedding?: QueryEmbeddingOptions;
  /** Read-your-writes: documents' versions waited for (minVersion, consistentWith). */
  waiters?: DocumentWaiters;
}

export function registerSearchRoute(app: FastifyInstance, o: SearchRouteOptions): void {
  const queues = new Map(
    [...o.models.values()].map((e) => [
      e,
      new QueryEmbedding((texts) => e.embed(texts, { truncate: true }), o.queryEmbedding),
    ]),
  );
  const active = cached((tenant, collection) => activeModel(o.sql, tenant, collection));
  const fusion = cached((tenant, collection, modelId) =>
    getFusion(o.sql, tenant, collection, modelId),
  );

  const embedQuery = (embedder: Embedder, query: string): Promise<Float32Array> =>
    inSpan('embed query', { attributes: { 'sluice.model': embedder.spec.id } }, () =>
      queues.get(embedder)!.vector(query),
    );

  /** The request's model, else the collection's active one, else the default. */
  const embedderFor = async (
    tenant: string,
    collection: string | undefined,
    model: string | undefined,
    pointer: string,
  ): Promise<Embedder> => {
    const name =
      model ??
      (collection === undefined ? undefined : await active(tenant, collection)) ??
      o.defaultModel;
    const embedder = o.models.get(name);
    if (!embedder) {
      throw new SluiceError(
        'MODEL_UNKNOWN',
        `model '${name}' is not served here; served: ${[...o.models.keys()].join(', ')}`,
        { details: { pointer } },
      );
    }
    return embedder;
  };

  app.post<{ Body: Static<typeof SearchRequest> }>(
    '/v1/search',
    {
      config: routeScope.plain,
      schema: {
        tags: ['search'],
        summary: 'Search chunks: vector, keyword (BM25) or hybrid (weighted fusion of both)',
        description:
          'keyword: BM25 over the words of the query (any may match); a query with no searchable words is a 400 QUERY_NO_TERMS. ' +
          "hybrid: the best 100 of each side, scores normalised and summed with the collection's vector weight " +
          '(self-calibrated on queries made from the collection, calibrated by `sluice eval --calibrate` or set by hand; else 0.5); ' +
          'a query with no searchable words is searched by vector alone.',
        body: SearchRequest,
        response: {
          200: SearchResponse,
          400: ErrorResponse,
          401: ErrorResponse,
          404: ErrorResponse,
          409: ErrorResponse,
          429: ErrorResponse,
        },
      },
    },
    async (request) => {
      const started = performance.now();
      const { tenant } = principalOf(request);
      const body = request.body;
      if (body.consistentWith) {
        const c = body.consistentWith;
        const collection = c.collection ?? body.collection;
        if (collection === undefined)
          throw new SluiceError(
            'REQUEST_INVALID',
            'consistentWith needs the collection: set collection, or consistentWith.collection',
            { details: { pointer: '/consistentWith/collection' } },
          );
        if (!o.waiters)
          throw new SluiceError('REQUEST_INVALID', 'consistentWith is not served here', {
            details: { pointer: '/consistentWith' },
          });
        const w = await waitForVersion(
          o.waiters,
          { tenant, collection, documentId: c.documentId },
          c.version,
          c.timeoutMs ?? 5_000,
        );
        if (w.outcome !== 'visible') throw notVisible(w, c.version);
      }
      const embedder = await embedderFor(tenant, body.collection, body.model, '/model');
      // Hybrid needs both the query's terms (a round trip) and its embedding: at once.
      const embedding = body.mode === 'hybrid' ? embedQuery(embedder, body.query) : undefined;
      // A rejection is the route's once awaited below; until then it must not go unhandled.
      embedding?.catch(() => {});
      const terms = body.mode === 'vector' ? [] : await queryTerms(o.sql, body.query);
      if (body.mode === 'keyword' && terms.length === 0) {
        throw new SluiceError(
          'QUERY_NO_TERMS',
          'the query has no searchable words (only stop words or punctuation); try vector or hybrid search',
          { details: { pointer: '/query' } },
        );
      }
      let used: Static<typeof FusionUsed> | undefined;
      if (body.mode === 'hybrid') {
        const stored =
          body.fusion || body.collection === undefined
            ? undefined
            : await fusion(tenant, body.collection, embedder.spec.id);
        const [vectorWeight, source] =
          terms.length === 0
            ? [1, 'no-keyword-terms' as const]
            : body.fusion
              ? [body.fusion.vectorWeight, 'request' as const]
              : [stored?.vectorWeight ?? DEFAULT_VECTOR_WEIGHT, sourceOf(stored)];
        used = { vectorWeight, source };
      }
      const vector =
        body.mode === 'keyword' ? undefined : await (embedding ?? embedQuery(embedder, body.query));
      const results = await inSpan(
        'search',
        {
          attributes: {
            'db.system.name': 'postgresql',
            'sluice.search.mode': body.mode,
            'sluice.model': embedder.spec.id,
            'sluice.search.k': body.k,
          },
        },
        () =>
          search(o.sql, {
            tenant,
            ...(body.collection === undefined ? {} : { collection: body.collection }),
            modelId: embedder.spec.id,
            dimensions: embedder.spec.dimensions,
            mode: body.mode,
            terms,
            ...(vector === undefined ? {} : { vector }),
            k: body.k,
            ...(body.filter === undefined ? {} : { filter: body.filter }),
            ...(used ? { vectorWeight: used.vectorWeight } : {}),
            ...(body.exact ? { exact: true } : {}),
            ...(o.keywordDepth === undefined ? {} : { keywordDepth: o.keywordDepth }),
            ...(o.keywordMemory ? { keywordMemory: o.keywordMemory } : {}),
          }),
      );
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
        ...(used ? { fusion: used } : {}),
        results,
      };
    },
  );
  registerFusionRoutes(app, {
    sql: o.sql,
    embedderFor,
    fusion,
    ...(o.calibrator ? { calibrator: o.calibrator } : {}),
  });
}
