import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import Type from 'typebox';
import type { DeadLetters } from '../../consumers/dlq/index.js';
import { SluiceError } from '../../errors/index.js';
import { ErrorResponse } from '../schemas.js';

const Durable = Type.String({ pattern: '^[A-Za-z0-9_-]{1,128}$' });
const ListQuery = Type.Object(
  {
    consumer: Type.Optional(Durable),
    after: Type.Optional(Type.Integer({ minimum: 0 })),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  },
  { additionalProperties: false },
);
const IdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });
const RedriveBody = Type.Object(
  {
    ids: Type.Optional(Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, maxItems: 10_000 })),
    consumer: Type.Optional(Durable),
    all: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

/** Dead letters: list, inspect, redrive. Admin keys only: letters hold every tenant's messages. */
export function registerDeadLetterRoutes(app: FastifyInstance, letters: DeadLetters): void {
  const config = { admin: true };
  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/v1/dead-letters',
    {
      config,
      schema: {
        tags: ['dead letters'],
        summary: 'Dead letters, oldest first',
        querystring: ListQuery,
        response: { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse },
      },
    },
    async (request) => {
      const q = request.query;
      const page = await letters.list({
        limit: q.limit,
        ...(q.consumer === undefined ? {} : { consumer: q.consumer }),
        ...(q.after === undefined ? {} : { after: q.after }),
      });
      return { items: page.items, next: page.next ?? null, depth: await letters.depth() };
    },
  );
  app.get<{ Params: Static<typeof IdParams> }>(
    '/v1/dead-letters/:id',
    {
      config,
      schema: {
        tags: ['dead letters'],
        summary: 'One dead letter: error, attempts, headers, payload',
        params: IdParams,
        response: { 400: ErrorResponse, 404: ErrorResponse },
      },
    },
    async (request) => {
      const letter = await letters.show(request.params.id);
      if (!letter) throw new SluiceError('NOT_FOUND', `no dead letter ${request.params.id}`);
      return letter;
    },
  );
  app.post<{ Body: Static<typeof RedriveBody> }>(
    '/v1/dead-letters/redrive',
    {
      config,
      schema: {
        tags: ['dead letters'],
        summary: 'Send dead letters back to their consumer (by ids, consumer or all)',
        body: RedriveBody,
        response: { 400: ErrorResponse },
      },
    },
    async (request) => letters.redrive(request.body),
  );
}
