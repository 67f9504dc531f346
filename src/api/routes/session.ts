import type { FastifyInstance } from 'fastify';
import { routeScope } from '../auth.js';

/** Who the caller's key is: what the dashboard shows and hides follows from it. */
export function registerSessionRoutes(app: FastifyInstance, models: readonly string[]): void {
  app.get(
    '/v1/me',
    {
      config: routeScope.plain,
      schema: {
        tags: ['keys'],
        summary:
          "The caller's key: its tenant, whether it is an admin or operator key, and the models this API serves",
      },
    },
    (request) => {
      const p = request.principal!;
      return {
        keyId: p.keyId,
        tenant: p.tenant,
        admin: p.admin,
        operator: p.operator,
        models,
      };
    },
  );
}
