import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import Type from 'typebox';
import { Token } from '../../contracts/index.js';
import type { Sql } from '../../db/index.js';
import { SluiceError } from '../../errors/index.js';
import type { Embedder } from '../../models/index.js';
import { activateModel, collectionModels } from '../active-models.js';
import { principalOf, routeScope } from '../auth.js';
import { ErrorResponse } from '../schemas.js';

const Params = Type.Object({ collection: Token });
const ActivateBody = Type.Object(
  {
    model: Type.String({ minLength: 1, maxLength: 200 }),
    force: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

/**
 * Models per collection of the caller's tenant: what this API serves, which model each
 * collection's queries use (and used before), how much of each collection every served
 * model's index covers (blue/green progress); switching a collection's model (admin
 * keys), which is also how a switch is rolled back.
 */
export function registerModelRoutes(
  app: FastifyInstance,
  sql: Sql,
  models: Map<string, Embedder>,
  defaultModel: string,
): void {
  app.get(
    '/v1/models',
    {
      config: routeScope.plain,
      schema: {
        tags: ['models'],
        summary:
          "Served models; per collection, the active and previous model and each served model's coverage",
      },
    },
    async (request) => {
      const { tenant } = principalOf(request);
      return {
        served: [...models.values()].map((m) => ({
          name: m.spec.name,
          id: m.spec.id,
          dimensions: m.spec.dimensions,
          default: m.spec.name === defaultModel,
        })),
        collections: await collectionModels(sql, tenant, [...models.keys()]),
      };
    },
  );
  app.put<{ Params: Static<typeof Params>; Body: Static<typeof ActivateBody> }>(
    '/v1/collections/:collection/model',
    {
      config: routeScope.admin,
      schema: {
        tags: ['models'],
        summary:
          "Switch a collection's queries to a served model, in one step (refused while its index does not cover the collection, unless forced); switching back to the previous model rolls back",
        params: Params,
        body: ActivateBody,
        response: { 400: ErrorResponse, 403: ErrorResponse, 409: ErrorResponse },
      },
    },
    async (request) => {
      const { tenant } = principalOf(request);
      const { model, force } = request.body;
      if (!models.has(model))
        throw new SluiceError(
          'MODEL_UNKNOWN',
          `model '${model}' is not served here; served: ${[...models.keys()].join(', ')}`,
          { details: { pointer: '/model' } },
        );
      const c = await activateModel(sql, tenant, request.params.collection, model, force ?? false);
      return { collection: request.params.collection, active: model, coverage: c };
    },
  );
}
