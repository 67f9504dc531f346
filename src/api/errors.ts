import type { FastifyError, FastifyInstance } from 'fastify';
import { isTransientDbError } from '../db/index.js';
import { errorCodes, isSluiceError, type ErrorCode, type SluiceError } from '../errors/index.js';
import { isTransientPublishError } from '../nats/index.js';

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: Record<string, unknown> };
}

/** Fastify's own error codes, mapped to ours so every answer carries a stable code. */
const fastifyCodes: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'MEDIA_TYPE_UNSUPPORTED',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'BATCH_EMPTY',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'REQUEST_INVALID',
  FST_ERR_VALIDATION: 'REQUEST_INVALID',
};

function validationPointer(
  v: { instancePath: string; params: Record<string, unknown> } | undefined,
): string {
  if (v === undefined) return '';
  const missing = v.params.missingProperty;
  return typeof missing === 'string' ? `${v.instancePath}/${missing}` : v.instancePath;
}

export function errorBody(
  code: ErrorCode,
  message: string,
  details?: Record<string, unknown>,
): ErrorBody {
  return { error: { code, message, ...(details === undefined ? {} : { details }) } };
}

/**
 * Every error leaves as JSON with a stable code and no internals: SluiceErrors as
 * themselves, Fastify's errors mapped, anything else a logged INTERNAL 500.
 */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | SluiceError | Error, request, reply) => {
    if (isSluiceError(err)) {
      if (err.status >= 500) request.log.error({ err }, err.message);
      const retryAfter = err.details?.retryAfter;
      if (typeof retryAfter === 'number') void reply.header('retry-after', String(retryAfter));
      return reply.status(err.status).send(errorBody(err.code, err.message, err.details));
    }
    const fe = err as FastifyError;
    const mapped = fe.code === undefined ? undefined : fastifyCodes[fe.code];
    if (mapped !== undefined) {
      const details =
        fe.validation === undefined
          ? undefined
          : {
              pointer: validationPointer(fe.validation[0]),
              issues: fe.validation.map((v) => ({
                pointer: v.instancePath,
                message: v.message ?? 'is invalid',
              })),
            };
      const message =
        mapped === 'MEDIA_TYPE_UNSUPPORTED'
          ? `unsupported Content-Type '${request.headers['content-type'] ?? ''}'`
          : fe.validation !== undefined
            ? `${fe.validationContext ?? 'request'}${fe.validation[0]?.instancePath ?? ''} ${fe.validation[0]?.message ?? 'is invalid'}`
            : fe.message;
      return reply.status(errorCodes[mapped].status).send(errorBody(mapped, message, details));
    }
    if ((err as { code?: unknown }).code === '57014') {
      request.log.warn({ err, url: request.url }, 'query cancelled by statement_timeout');
      return reply
        .status(503)
        .send(
          errorBody(
            'QUERY_TIMEOUT',
            'the query ran too long and was cancelled; narrow it (a collection, filters, a smaller k) or retry',
          ),
        );
    }
    // A dependency that is down is a 503 the client may retry, not an internal error.
    if (isTransientDbError(err)) {
      request.log.warn({ err }, 'database unavailable');
      return reply
        .status(503)
        .send(errorBody('DB_UNAVAILABLE', 'the database is unavailable; retry shortly'));
    }
    if (isTransientPublishError(err)) {
      request.log.warn({ err }, 'NATS unavailable');
      return reply
        .status(503)
        .send(errorBody('NATS_UNAVAILABLE', 'NATS is unavailable; retry shortly'));
    }
    if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      return reply.status(fe.statusCode).send(errorBody('REQUEST_INVALID', fe.message));
    }
    request.log.error({ err }, 'unhandled error');
    return reply.status(500).send(errorBody('INTERNAL', 'internal error'));
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .status(404)
      .send(errorBody('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`)),
  );
}
