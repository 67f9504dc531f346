import { Token } from '../../contracts/index.js';
import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import Type from 'typebox';
import type { FastifyRequest } from 'fastify';
import type { DeadLetters, LetterScope } from '../../dead-letters/index.js';
import { SluiceError } from '../../errors/index.js';
import { principalOf, routeScope } from '../auth.js';
import type { RedriveJobs } from '../redrive-jobs.js';
import { ErrorResponse } from '../schemas.js';

const Durable = Type.String({ pattern: '^[A-Za-z0-9_-]{1,128}$' });
const ListQuery = Type.Object(
  {
    consumer: Type.Optional(Durable),
    code: Type.Optional(Type.String({ pattern: '^[A-Z][A-Z0-9_]{0,63}$' })),
    tenant: Type.Optional(Token),
    after: Type.Optional(Type.Integer({ minimum: 0 })),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  },
  { additionalProperties: false },
);
const IdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });
const RedriveBody = Type.Object(
  {
    ids: Type.Optional(Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, maxItems: 1000 })),
    consumer: Type.Optional(Durable),
    all: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
const JobParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

/** An operator's key sees every letter; a tenant admin's, its tenant's only. */
function scopeOf(request: FastifyRequest): LetterScope {
  const p = principalOf(request);
  return p.operator ? 'installation' : { tenant: p.tenant };
}

/**
 * Dead letters: list, inspect, redrive. Admin keys only, and a tenant's admin key sees
 * and redrives that tenant's letters only (another tenant's letter is "not found");
 * an operator key sees them all. Redriving listed ids answers when done; redriving a
 * consumer's letters or all of them is a background job.
 */
export function registerDeadLetterRoutes(
  app: FastifyInstance,
  letters: DeadLetters,
  jobs: RedriveJobs,
): void {
  const config = routeScope.admin;
  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/v1/dead-letters',
    {
      config,
      schema: {
        tags: ['dead letters'],
        summary: 'Dead letters, oldest first, by consumer, error code and tenant',
        querystring: ListQuery,
        response: { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse },
      },
    },
    async (request) => {
      const q = request.query;
      const scope = scopeOf(request);
      const page = await letters.list({
        scope,
        limit: q.limit,
        ...(q.consumer === undefined ? {} : { consumer: q.consumer }),
        ...(q.code === undefined ? {} : { code: q.code }),
        ...(q.tenant === undefined ? {} : { tenant: q.tenant }),
        ...(q.after === undefined ? {} : { after: q.after }),
      });
      // Counts per consumer cover every tenant: an operator's alone.
      return {
        items: page.items,
        next: page.next ?? null,
        ...(scope === 'installation' ? { depth: await letters.depth() } : {}),
      };
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
      const letter = await letters.show(request.params.id, scopeOf(request));
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
        summary:
          'Send dead letters back to their consumer: ids at once; a consumer or all as a job (202)',
        body: RedriveBody,
        response: { 400: ErrorResponse, 409: ErrorResponse },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const scope = scopeOf(request);
      if (b.ids !== undefined) {
        if (b.all) throw new SluiceError('REQUEST_INVALID', 'say ids or all, not both');
        return letters.redrive({
          scope,
          ids: b.ids,
          ...(b.consumer === undefined ? {} : { consumer: b.consumer }),
        });
      }
      const job = await jobs.start(scope, {
        ...(b.consumer === undefined ? {} : { consumer: b.consumer }),
        ...(b.all ? { all: true } : {}),
      });
      return reply
        .status(202)
        .header('location', `/v1/dead-letters/redrive-jobs/${job.id}`)
        .send(job);
    },
  );
  app.get(
    '/v1/dead-letters/redrive-jobs',
    {
      config,
      schema: { tags: ['dead letters'], summary: 'The latest redrive jobs, newest first' },
    },
    async (request) => ({ items: await jobs.list(scopeOf(request)) }),
  );
  app.get<{ Params: Static<typeof JobParams> }>(
    '/v1/dead-letters/redrive-jobs/:id',
    {
      config,
      schema: {
        tags: ['dead letters'],
        summary: 'Progress of one redrive job',
        params: JobParams,
        response: { 400: ErrorResponse, 404: ErrorResponse },
      },
    },
    async (request) => {
      const job = await jobs.get(scopeOf(request), request.params.id);
      if (!job) throw new SluiceError('NOT_FOUND', `no redrive job ${request.params.id}`);
      return job;
    },
  );
  app.post<{ Params: Static<typeof JobParams> }>(
    '/v1/dead-letters/redrive-jobs/:id/cancel',
    {
      config,
      schema: {
        tags: ['dead letters'],
        summary: 'Stop a running redrive job after the page in hand',
        params: JobParams,
        response: { 400: ErrorResponse, 404: ErrorResponse },
      },
    },
    async (request, reply) => {
      const job = await jobs.cancel(scopeOf(request), request.params.id);
      if (!job) throw new SluiceError('NOT_FOUND', `no redrive job ${request.params.id}`);
      return reply.status(202).send(job);
    },
  );
}
