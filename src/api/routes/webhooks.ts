import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import Type from 'typebox';
import { Token } from '../../contracts/index.js';
import type { Sql } from '../../db/index.js';
import { SluiceError } from '../../errors/index.js';
import { checkTarget, type WebhookAllowlist } from '../../output/index.js';
import {
  createSubscription,
  deleteSubscription,
  deliveryLog,
  getSubscription,
  listSubscriptions,
  redriveDeliveries,
  rotateCallbackSecret,
  rotateSubscriptionSecret,
  webhookEventTypes,
} from '../../output/index.js';
import { principalOf, routeScope } from '../auth.js';
import { ErrorResponse } from '../schemas.js';

const CreateBody = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: 2048, description: 'http(s) URL to POST to' }),
    events: Type.Optional(
      Type.Array(Type.Union(webhookEventTypes.map((t) => Type.Literal(t))), {
        maxItems: webhookEventTypes.length,
        description: 'event types to deliver; default all',
      }),
    ),
    collections: Type.Optional(
      Type.Array(Token, { maxItems: 100, description: 'collections to deliver; default all' }),
    ),
  },
  { additionalProperties: false },
);
const IdParams = Type.Object({ id: Type.String({ pattern: '^wh_[A-Za-z0-9_-]{1,64}$' }) });
const LogQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 50 }),
    before: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9_-]{1,400}$',
        description: 'the `next` cursor of the page before',
      }),
    ),
  },
  { additionalProperties: false },
);
const RedriveBody = Type.Object(
  {
    ids: Type.Optional(
      Type.Array(Type.String({ pattern: '^msg_[0-9a-f]{32}$' }), { minItems: 1, maxItems: 1000 }),
    ),
  },
  { additionalProperties: false },
);

export interface WebhookRoutesOptions {
  sql: Sql;
  allow: WebhookAllowlist;
  /** Subscriptions a tenant may have (SLUICE_WEBHOOK_MAX_SUBSCRIPTIONS). @defaultValue 100 */
  maxSubscriptions?: number;
  /** How long the previous secret signs too after a rotation (SLUICE_WEBHOOK_SECRET_OVERLAP). @defaultValue 24 h */
  secretOverlapMs?: number;
}

/**
 * Webhook subscriptions of the caller's tenant (admin keys): create (the signing
 * secret is shown once), list, delete; each one's delivery log; redrive of dead
 * deliveries; rotation of a subscription's secret; and the tenant's secret for
 * callbackUrl calls.
 */
export function registerWebhookRoutes(app: FastifyInstance, o: WebhookRoutesOptions): void {
  const { sql, allow } = o;
  const overlapMs = o.secretOverlapMs ?? 86_400_000;
  const config = routeScope.admin;
  const tags = ['webhooks'];
  app.post<{ Body: Static<typeof CreateBody> }>(
    '/v1/webhooks',
    {
      config,
      schema: {
        tags,
        summary: 'Subscribe an endpoint (the secret is in this answer only)',
        body: CreateBody,
        response: { 400: ErrorResponse, 403: ErrorResponse, 409: ErrorResponse },
      },
    },
    async (request, reply) => {
      const { tenant, operator } = principalOf(request);
      // replay.* events concern the whole installation (their errors name any tenant's data).
      const installationWide = ((request.body.events ?? []) as string[]).filter((e) =>
        e.startsWith('replay.'),
      );
      if (installationWide.length > 0 && !operator)
        throw new SluiceError(
          'FORBIDDEN',
          `${installationWide.join(', ')} concern the whole installation: subscribing needs an operator key`,
          { details: { pointer: '/events' } },
        );
      const url = await checkTarget(request.body.url, allow);
      const sub = await createSubscription(sql, {
        tenant,
        max: o.maxSubscriptions ?? 100,
        url: url.toString(),
        ...(request.body.events ? { events: request.body.events } : {}),
        ...(request.body.collections ? { collections: request.body.collections } : {}),
      });
      return reply.status(201).send(sub);
    },
  );
  app.get(
    '/v1/webhooks',
    { config, schema: { tags, summary: 'Subscriptions (no secrets)' } },
    async (request) => ({
      items: await listSubscriptions(sql, principalOf(request).tenant),
    }),
  );
  app.delete<{ Params: Static<typeof IdParams> }>(
    '/v1/webhooks/:id',
    {
      config,
      schema: {
        tags,
        summary: 'Delete a subscription',
        params: IdParams,
        response: { 404: ErrorResponse },
      },
    },
    async (request, reply) => {
      if (!(await deleteSubscription(sql, principalOf(request).tenant, request.params.id)))
        throw new SluiceError('NOT_FOUND', `no webhook ${request.params.id}`);
      return reply.status(204).send();
    },
  );
  app.get<{ Params: Static<typeof IdParams>; Querystring: Static<typeof LogQuery> }>(
    '/v1/webhooks/:id/deliveries',
    {
      config,
      schema: {
        tags,
        summary:
          'The latest attempts (status code, latency, answer excerpt), a page at a time, and the latest deliveries by status',
        params: IdParams,
        querystring: LogQuery,
        response: { 404: ErrorResponse },
      },
    },
    async (request) => {
      const sub = await getSubscription(sql, principalOf(request).tenant, request.params.id);
      if (!sub) throw new SluiceError('NOT_FOUND', `no webhook ${request.params.id}`);
      return {
        subscription: sub,
        ...(await deliveryLog(sql, sub.id, request.query.limit, request.query.before)),
      };
    },
  );
  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof RedriveBody> }>(
    '/v1/webhooks/:id/deliveries/redrive',
    {
      config,
      schema: {
        tags,
        summary: 'Send dead deliveries again (listed ids, or all)',
        params: IdParams,
        body: RedriveBody,
        response: { 404: ErrorResponse },
      },
    },
    async (request) => {
      const sub = await getSubscription(sql, principalOf(request).tenant, request.params.id);
      if (!sub) throw new SluiceError('NOT_FOUND', `no webhook ${request.params.id}`);
      return { redriven: await redriveDeliveries(sql, sub.id, request.body.ids) };
    },
  );
  app.post<{ Params: Static<typeof IdParams> }>(
    '/v1/webhooks/:id/rotate-secret',
    {
      config,
      schema: {
        tags,
        summary:
          'Rotate the signing secret (shown once); the old one signs too for SLUICE_WEBHOOK_SECRET_OVERLAP',
        params: IdParams,
        response: { 404: ErrorResponse },
      },
    },
    async (request) => {
      const rotated = await rotateSubscriptionSecret(
        sql,
        principalOf(request).tenant,
        request.params.id,
        overlapMs,
      );
      if (!rotated) throw new SluiceError('NOT_FOUND', `no webhook ${request.params.id}`);
      return { id: request.params.id, ...rotated };
    },
  );
  app.post(
    '/v1/webhooks/callback-secret',
    {
      config,
      schema: {
        tags,
        summary:
          "Rotate the secret that signs calls to events' own callbackUrl (shown once); the old one signs too for SLUICE_WEBHOOK_SECRET_OVERLAP",
      },
    },
    async (request) => rotateCallbackSecret(sql, principalOf(request).tenant, overlapMs),
  );
}
