import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import Type from 'typebox';
import { Token } from '../../contracts/index.js';
import { DEFAULT_VECTOR_WEIGHT } from '../../consumers/indexer/index.js';
import {
  deleteFusion,
  getFusion,
  setFusion,
  type FusionSetting,
} from '../../consumers/indexer/index.js';
import type { SelfCalibrator } from '../../consumers/indexer/index.js';
import type { Sql } from '../../db/index.js';
import type { Embedder } from '../../models/index.js';
import { principalOf, routeScope } from '../auth.js';
import {
  ErrorResponse,
  FusionSettingBody,
  FusionSettingResponse,
  SelfCalibrationResponse,
} from '../schemas.js';

export interface FusionRoutesOptions {
  sql: Sql;
  /** The request's model, else the collection's active one, else the default. */
  embedderFor: (
    tenant: string,
    collection: string | undefined,
    model: string | undefined,
    pointer: string,
  ) => Promise<Embedder>;
  /** The search route's cache of stored weights, cleared when one changes. */
  fusion: { clear(): void };
  /** Self-calibration of fusion weights (POST …/fusion/calibrate); none: that route is absent. */
  calibrator?: SelfCalibrator;
}

/**
 * Where a stored weight came from: chosen on generated queries (self-calibration), on
 * judged ones (sluice eval), set by hand, or none stored.
 */
export const sourceOf = (stored: FusionSetting | undefined) =>
  stored
    ? stored.calibration
      ? stored.calibration.source === 'self-calibrated'
        ? ('self-calibrated' as const)
        : ('calibrated' as const)
      : ('configured' as const)
    : ('default' as const);

const CollectionParams = Type.Object({ collection: Token });
/** What the admin routes that change a weight answer. */
const fusionWriteResponse = {
  200: FusionSettingResponse,
  400: ErrorResponse,
  401: ErrorResponse,
  403: ErrorResponse,
};
const ModelQuery = Type.Object(
  { model: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })) },
  { additionalProperties: false },
);

/** The routes that read, set, self-calibrate and forget a collection's hybrid fusion weight. */
export function registerFusionRoutes(app: FastifyInstance, o: FusionRoutesOptions): void {
  const { embedderFor, fusion } = o;
  const describe = async (tenant: string, collection: string, model: string | undefined) => {
    const embedder = await embedderFor(tenant, collection, model, '/model');
    const stored = await getFusion(o.sql, tenant, collection, embedder.spec.id);
    return {
      collection,
      model: embedder.spec.id,
      vectorWeight: stored?.vectorWeight ?? DEFAULT_VECTOR_WEIGHT,
      source: sourceOf(stored),
      calibration: stored?.calibration ?? null,
      updatedAt: stored?.updatedAt.toISOString() ?? null,
    };
  };

  app.get<{ Params: Static<typeof CollectionParams>; Querystring: Static<typeof ModelQuery> }>(
    '/v1/collections/:collection/fusion',
    {
      config: routeScope.plain,
      schema: {
        tags: ['search'],
        summary: "The hybrid fusion weight a collection's searches use with a model",
        params: CollectionParams,
        querystring: ModelQuery,
        response: { 200: FusionSettingResponse, 400: ErrorResponse, 401: ErrorResponse },
      },
    },
    async (request) =>
      describe(principalOf(request).tenant, request.params.collection, request.query.model),
  );

  app.put<{ Params: Static<typeof CollectionParams>; Body: Static<typeof FusionSettingBody> }>(
    '/v1/collections/:collection/fusion',
    {
      config: routeScope.admin,
      schema: {
        tags: ['search'],
        summary:
          "Sets a collection's hybrid fusion weight for a model (sluice eval --calibrate does this)",
        params: CollectionParams,
        body: FusionSettingBody,
        response: fusionWriteResponse,
      },
    },
    async (request) => {
      const { tenant } = principalOf(request);
      const { collection } = request.params;
      const embedder = await embedderFor(tenant, collection, request.body.model, '/model');
      await setFusion(
        o.sql,
        { tenant, collection, modelId: embedder.spec.id },
        request.body.vectorWeight,
        request.body.calibration ?? null,
      );
      fusion.clear();
      return describe(tenant, collection, request.body.model);
    },
  );

  const calibrator = o.calibrator;
  if (calibrator)
    app.post<{ Params: Static<typeof CollectionParams>; Querystring: Static<typeof ModelQuery> }>(
      '/v1/collections/:collection/fusion/calibrate',
      {
        config: routeScope.admin,
        schema: {
          tags: ['search'],
          summary:
            "Self-calibrates a collection's hybrid fusion weight for a model now, on queries made from its own text",
          description:
            'Stores the weight unless one calibrated on judged queries (sluice eval --calibrate) or set by hand is stored: those win. ' +
            'It also runs by itself when a collection gets its first 50 chunks of a model and whenever it doubles or halves.',
          params: CollectionParams,
          querystring: ModelQuery,
          response: {
            200: SelfCalibrationResponse,
            400: ErrorResponse,
            401: ErrorResponse,
            403: ErrorResponse,
            409: ErrorResponse,
          },
        },
      },
      async (request) => {
        const { tenant } = principalOf(request);
        const { collection } = request.params;
        const embedder = await embedderFor(tenant, collection, request.query.model, '/model');
        const { calibration, stored } = await calibrator.run({
          tenant,
          collection,
          modelId: embedder.spec.id,
        });
        fusion.clear();
        return {
          ...(await describe(tenant, collection, request.query.model)),
          selfCalibration: calibration as unknown as Record<string, unknown>,
          stored,
        };
      },
    );

  app.delete<{ Params: Static<typeof CollectionParams>; Querystring: Static<typeof ModelQuery> }>(
    '/v1/collections/:collection/fusion',
    {
      config: routeScope.admin,
      schema: {
        tags: ['search'],
        summary: "Forgets a collection's fusion weight for a model: searches use the default",
        params: CollectionParams,
        querystring: ModelQuery,
        response: fusionWriteResponse,
      },
    },
    async (request) => {
      const { tenant } = principalOf(request);
      const { collection } = request.params;
      const embedder = await embedderFor(tenant, collection, request.query.model, '/model');
      await deleteFusion(o.sql, { tenant, collection, modelId: embedder.spec.id });
      fusion.clear();
      return describe(tenant, collection, request.query.model);
    },
  );
}
