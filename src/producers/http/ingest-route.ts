import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SluiceError, errorCodes } from '../../errors/index.js';
import type { BatchResult, Producer } from '../sdk/index.js';
import { decodeBody, formatOf, ingestContentTypes, parseIngestBody } from './parse-body.js';

export interface IngestRouteOptions {
  producer: Producer;
  /** Largest request body in bytes (SLUICE_HTTP_BODY_LIMIT). */
  bodyLimit: number;
  /** Most events in one request (SLUICE_INGEST_MAX_EVENTS). @defaultValue 10000 */
  maxEvents?: number;
  /**
   * The tenant the caller may write to (from its API key), or undefined for an admin
   * or an open instance. Events for another tenant are rejected, whatever they say.
   */
  tenantOf?: (request: FastifyRequest) => string | undefined;
  /**
   * Judges an event's callbackUrl (the outbound guard): throws WEBHOOK_TARGET_REFUSED
   * for a target Sluice may not call, so the event is refused before it is stored.
   */
  checkCallback?: (url: string) => Promise<unknown>;
}

const ResultSchema = {
  type: 'object',
  properties: {
    index: { type: 'integer', description: 'position of the event in the request (0-based)' },
    id: { type: 'string', description: 'the event id, when the event had one' },
    status: { type: 'string', enum: ['accepted', 'duplicate', 'rejected', 'failed'] },
    version: {
      type: 'integer',
      description: 'event-log sequence: the document version this event made',
    },
    error: {
      type: 'object',
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        pointer: { type: 'string' },
      },
    },
  },
} as const;

const ResponseSchema = {
  type: 'object',
  properties: {
    accepted: { type: 'integer' },
    duplicate: { type: 'integer' },
    rejected: { type: 'integer' },
    failed: { type: 'integer' },
    results: { type: 'array', items: ResultSchema },
    error: {
      type: 'object',
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        details: { type: 'object', additionalProperties: true },
      },
    },
  },
} as const;

/**
 * POST /v1/events: one CloudEvent (application/json or application/cloudevents+json),
 * a JSON array (application/cloudevents-batch+json) or NDJSON (application/x-ndjson).
 * Each event is answered on its own: accepted, duplicate (its id was already stored),
 * rejected (with a code and a JSON pointer; nothing stored) or failed (retry it).
 *
 * Status: 202 when every event was stored, 400 when every event was rejected, 503 when
 * none could be stored for a transient reason, 207 for a mix.
 */
export async function registerIngestRoute(
  parent: FastifyInstance,
  options: IngestRouteOptions,
): Promise<void> {
  const allTypes = Object.values(ingestContentTypes).flat();
  // A scope of its own: the raw-text body parsers apply to this route only.
  await parent.register((app, _opts, done) => {
    app.addContentTypeParser(allTypes, { parseAs: 'buffer' }, (_req, body, parsed) =>
      parsed(null, body),
    );
    registerRoute(app, allTypes, options);
    done();
  });
}

function registerRoute(
  app: FastifyInstance,
  allTypes: string[],
  options: IngestRouteOptions,
): void {
  app.post(
    '/v1/events',
    {
      // A plain key writes to its own tenant only (tenantOf).
      config: { scope: 'plain', owns: 'tenant' },
      bodyLimit: options.bodyLimit,
      schema: {
        tags: ['ingest'],
        summary: 'Publish document events',
        description:
          'One CloudEvent (application/json, application/cloudevents+json), a JSON array ' +
          '(application/cloudevents-batch+json) or NDJSON (application/x-ndjson). Header ' +
          '`Sluice-Expected-Version` (single event only) rejects a stale write with 409.',
        headers: {
          type: 'object',
          properties: { 'sluice-expected-version': { type: 'string', pattern: '^[0-9]+$' } },
        },
        response: {
          202: ResponseSchema,
          207: ResponseSchema,
          400: ResponseSchema,
          409: ResponseSchema,
          503: ResponseSchema,
        },
      },
    },
    async (request, reply) => {
      const format = formatOf(request.headers['content-type']);
      if (format === undefined) {
        throw new SluiceError(
          'MEDIA_TYPE_UNSUPPORTED',
          `unsupported Content-Type; use one of ${allTypes.join(', ')}`,
        );
      }
      const text = decodeBody(request.body as Buffer);
      if (typeof text !== 'string') throw new SluiceError(text!.code, text!.message);
      const maxEvents = options.maxEvents ?? 10_000;
      const { single, items } = parseIngestBody(format, text, { maxEvents });
      if (items.length === 0) throw new SluiceError('BATCH_EMPTY', 'the request carries no events');
      if (items.length > maxEvents)
        throw new SluiceError(
          'BATCH_TOO_LARGE',
          `the request carries ${items.length} events; the limit is ${maxEvents} (SLUICE_INGEST_MAX_EVENTS): split it`,
          { details: { events: items.length, limit: maxEvents } },
        );
      const expected = request.headers['sluice-expected-version'];
      if (expected !== undefined && !single) {
        throw new SluiceError(
          'REQUEST_INVALID',
          'Sluice-Expected-Version applies to a single event, not a batch',
          {
            details: { pointer: '/headers/sluice-expected-version' },
          },
        );
      }

      const tenant = options.tenantOf?.(request);
      const results: BatchResult[] = new Array<BatchResult>(items.length);
      const pending: { index: number; event: unknown }[] = [];
      items.forEach((item, index) => {
        const id = idOf(item.event);
        const written = tenantOfEvent(item.event);
        if (item.error) results[index] = { index, id, status: 'rejected', error: item.error };
        // An event without a tenant string is invalid, whoever sends it: the producer's
        // validation says so (EVENT_INVALID at /data/tenant), not this check.
        else if (tenant !== undefined && typeof written === 'string' && written !== tenant) {
          results[index] = {
            index,
            id,
            status: 'rejected',
            error: {
              code: 'TENANT_FORBIDDEN',
              message: `this API key writes to tenant '${tenant}' only`,
              pointer: '/data/tenant',
            },
          };
        } else pending.push({ index, event: item.event });
      });
      if (options.checkCallback) {
        const refusals = await refusedCallbacks(pending, options.checkCallback);
        for (const [index, error] of refusals)
          results[index] = { index, id: idOf(items[index]!.event), status: 'rejected', error };
        if (refusals.size > 0)
          pending.splice(0, pending.length, ...pending.filter((p) => !refusals.has(p.index)));
      }

      if (expected !== undefined && pending.length === 1) {
        const { index, event } = pending[0]!;
        try {
          const r = await options.producer.publish(event, { expectedVersion: Number(expected) });
          results[index] = {
            index,
            id: r.id,
            status: r.duplicate ? 'duplicate' : 'accepted',
            seq: r.seq,
          };
        } catch (err) {
          if (!(err instanceof SluiceError)) throw err;
          const pointer =
            typeof err.details?.pointer === 'string' ? err.details.pointer : undefined;
          results[index] = {
            index,
            id: idOf(event),
            status: err.retryable || err.code === 'VERSION_CONFLICT' ? 'failed' : 'rejected',
            error: {
              code: err.code,
              message: err.message,
              ...(pointer === undefined ? {} : { pointer }),
            },
          };
        }
      } else if (pending.length > 0) {
        await options.producer.publishBatch(
          pending.map((p) => p.event),
          {
            onResult: (r) => {
              const index = pending[r.index]!.index;
              results[index] = { ...r, index };
            },
          },
        );
      }
      return answer(reply, single, results);
    },
  );
}

/** The events whose callbackUrl the guard refuses, each URL judged once per request. */
async function refusedCallbacks(
  pending: { index: number; event: unknown }[],
  check: (url: string) => Promise<unknown>,
): Promise<Map<number, { code: 'WEBHOOK_TARGET_REFUSED'; message: string; pointer: string }>> {
  const verdicts = new Map<string, Promise<string | undefined>>();
  const out = new Map<
    number,
    { code: 'WEBHOOK_TARGET_REFUSED'; message: string; pointer: string }
  >();
  for (const p of pending) {
    const url = callbackOf(p.event);
    if (url === undefined) continue;
    if (!verdicts.has(url))
      verdicts.set(
        url,
        check(url).then(
          () => undefined,
          (err: unknown) => (err instanceof Error ? err.message : String(err)),
        ),
      );
    const why = await verdicts.get(url)!;
    if (why !== undefined)
      out.set(p.index, {
        code: 'WEBHOOK_TARGET_REFUSED',
        message: why,
        pointer: '/data/callbackUrl',
      });
  }
  return out;
}

function callbackOf(event: unknown): string | undefined {
  const data =
    typeof event === 'object' && event !== null ? (event as { data?: unknown }).data : undefined;
  const url =
    typeof data === 'object' && data !== null
      ? (data as { callbackUrl?: unknown }).callbackUrl
      : undefined;
  return typeof url === 'string' ? url : undefined;
}

function idOf(event: unknown): string | undefined {
  const id =
    typeof event === 'object' && event !== null ? (event as { id?: unknown }).id : undefined;
  return typeof id === 'string' ? id : undefined;
}

function tenantOfEvent(event: unknown): unknown {
  const data =
    typeof event === 'object' && event !== null ? (event as { data?: unknown }).data : undefined;
  return typeof data === 'object' && data !== null
    ? (data as { tenant?: unknown }).tenant
    : undefined;
}

function answer(reply: FastifyReply, single: boolean, results: BatchResult[]) {
  const count = { accepted: 0, duplicate: 0, rejected: 0, failed: 0 };
  for (const r of results) count[r.status]++;
  const body = {
    ...count,
    results: results.map(({ seq, ...r }) => (seq === undefined ? r : { ...r, version: seq })),
  };
  const n = results.length;
  let status: number;
  if (count.accepted + count.duplicate === n) status = 202;
  else if (count.rejected === n) status = 400;
  else if (count.failed === n)
    status = single && results[0]?.error?.code === 'VERSION_CONFLICT' ? 409 : 503;
  else status = 207;
  const firstError = results.find((r) => r.error)?.error;
  if (single && firstError) {
    const { pointer, ...e } = firstError;
    if (status === 400 || status === 409 || status === 503) status = errorCodes[e.code].status;
    return reply.status(status).send({
      ...body,
      error: { ...e, ...(pointer === undefined ? {} : { details: { pointer } }) },
    });
  }
  return reply.status(status).send(body);
}
