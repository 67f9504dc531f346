import type { FastifyInstance } from 'fastify';
import { routeScope } from '../auth.js';
import type { Static } from 'typebox';
import Type from 'typebox';
import { SluiceError } from '../../errors/index.js';
import type { Logger } from '../../logger.js';
import { replayables, type Replayable, type Replayer } from '../../replay/index.js';
import { ErrorResponse } from '../schemas.js';

const Params = Type.Object({
  projection: Type.Union(
    replayables.map((r) => Type.Literal(r)) as [ReturnType<typeof Type.Literal<'documents'>>],
  ),
});
const StartBody = Type.Object(
  {
    fromSeq: Type.Optional(Type.Integer({ minimum: 1 })),
    since: Type.Optional(Type.String({ format: 'date-time' })),
    resume: Type.Optional(Type.Boolean()),
    replacePrevious: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

/** Replays over HTTP (operator keys: a replay rebuilds every tenant's rows): start or resume one in this process, watch, cancel. */
export function registerReplayRoutes(
  app: FastifyInstance,
  replayer: Replayer,
  logger: Logger,
): void {
  const config = routeScope.operator;
  app.get(
    '/v1/replays',
    {
      config,
      schema: {
        tags: ['replay'],
        summary: 'Progress and ETA of the latest replay of each projection',
      },
    },
    async () => ({
      items: (await Promise.all(replayables.map((p) => replayer.progress(p)))).filter(
        (p) => p !== undefined,
      ),
    }),
  );
  app.get<{ Params: Static<typeof Params> }>(
    '/v1/replays/:projection',
    {
      config,
      schema: {
        tags: ['replay'],
        summary: 'Progress of one replay',
        params: Params,
        response: { 404: ErrorResponse },
      },
    },
    async (request) => {
      const p = await replayer.progress(request.params.projection);
      if (!p) throw new SluiceError('NOT_FOUND', `no replay of ${request.params.projection} yet`);
      return p;
    },
  );
  app.post<{ Params: Static<typeof Params>; Body: Static<typeof StartBody> }>(
    '/v1/replays/:projection',
    {
      config,
      schema: {
        tags: ['replay'],
        summary: 'Start (or resume) a replay in the background',
        params: Params,
        body: StartBody,
        response: { 400: ErrorResponse, 409: ErrorResponse },
      },
    },
    async (request, reply) => {
      const name = request.params.projection as Replayable;
      const b = request.body;
      const current = await replayer.progress(name);
      if (current && ['running', 'swapped', 'cancelling'].includes(current.status) && !b.resume) {
        throw new SluiceError('REPLAY_RUNNING', `a replay of ${name} is ${current.status}`);
      }
      void replayer
        .run(name, {
          ...(b.fromSeq === undefined ? {} : { fromSeq: b.fromSeq }),
          ...(b.since === undefined ? {} : { since: new Date(b.since) }),
          resume: b.resume ?? false,
          replacePrevious: b.replacePrevious ?? false,
        })
        .catch((err: unknown) => logger.error({ err, projection: name }, 'replay failed'));
      return reply.status(202).send({ projection: name, status: 'started' });
    },
  );
  app.post<{ Params: Static<typeof Params> }>(
    '/v1/replays/:projection/cancel',
    {
      config,
      schema: {
        tags: ['replay'],
        summary: 'Cancel a running replay (resume later)',
        params: Params,
      },
    },
    async (request, reply) => {
      const ok = await replayer.cancel(request.params.projection);
      if (!ok)
        throw new SluiceError('NOT_FOUND', `no running replay of ${request.params.projection}`);
      return reply
        .status(202)
        .send({ projection: request.params.projection, status: 'cancelling' });
    },
  );
  app.post<{ Params: Static<typeof Params> }>(
    '/v1/replays/:projection/rollback',
    {
      config,
      schema: {
        tags: ['replay'],
        summary:
          'Swap the previous tables back in and re-apply what changed since the swap (needs a replay run with replacePrevious off)',
        params: Params,
        response: { 409: ErrorResponse },
      },
    },
    async (request) => {
      const r = await replayer.rollback(request.params.projection);
      return { projection: request.params.projection, status: 'rolled-back', ...r };
    },
  );
}
