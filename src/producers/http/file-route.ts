import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DocumentId } from '../../contracts/index.js';
import { SluiceError } from '../../errors/index.js';
import type { Producer } from '../sdk/index.js';
import { firstFilePart } from './multipart.js';

export interface FileRouteOptions {
  producer: Producer;
  /** Largest raw file in bytes (SLUICE_FILE_MAX_BYTES). */
  maxFileBytes: number;
  /**
   * The tenant the caller may write to (from its API key, plain-key auth like
   * POST /v1/events), or undefined for an open instance, where `?tenant=` names it.
   */
  tenantOf?: (request: FastifyRequest) => string | undefined;
}

const Params = {
  type: 'object',
  required: ['collection', 'id'],
  properties: {
    collection: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' },
    id: DocumentId,
  },
} as const;

const Query = {
  type: 'object',
  additionalProperties: false,
  properties: {
    tenant: {
      type: 'string',
      pattern: '^[a-z0-9][a-z0-9_-]{0,62}$',
      description: 'only with authentication off; a key writes to its own tenant',
    },
    title: { type: 'string', maxLength: 1024, description: "overrides the file's own title" },
    uri: { type: 'string', maxLength: 4096 },
  },
} as const;

const Accepted = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['accepted', 'duplicate'] },
    id: { type: 'string' },
    version: { type: 'integer', description: 'event-log sequence: the document version' },
    file: {
      type: 'object',
      properties: {
        size: { type: 'integer' },
        sha256: { type: 'string' },
        mediaType: { type: 'string' },
        filename: { type: 'string' },
      },
    },
  },
} as const;

/**
 * POST /v1/documents/{collection}/{id}: a raw document (PDF, HTML, DOCX, markdown,
 * text) as the request body with its Content-Type, or as the first file of a
 * multipart/form-data form (browsers). The bytes go into the files bucket and a
 * `sluice.document.file.v1` event into the log; the parser role reads the bytes (the
 * content decides the format: a Content-Type can lie) and hands the text on to the
 * chunker. Answers 202 with the document version, as POST /v1/events does.
 */
export async function registerFileRoute(
  parent: FastifyInstance,
  options: FileRouteOptions,
): Promise<void> {
  // A scope of its own: any body is bytes here, and only here.
  await parent.register((app, _opts, done) => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, parsed) =>
      parsed(null, body),
    );
    register(app, options);
    done();
  });
}

function register(app: FastifyInstance, options: FileRouteOptions): void {
  app.post(
    '/v1/documents/:collection/:id',
    {
      config: { scope: 'plain', owns: 'tenant' },
      // Room for the multipart envelope; the file itself is checked against the limit.
      bodyLimit: options.maxFileBytes + 64 * 1024,
      schema: {
        tags: ['ingest'],
        summary: 'Upload a raw document (PDF, HTML, DOCX, markdown, text)',
        description:
          'The file as the body with its Content-Type, or multipart/form-data with the file as its first file part. ' +
          'The parser role extracts the text, headings and pages; search hits then carry `pages` and `headings`.',
        params: Params,
        querystring: Query,
        response: { 202: Accepted },
      },
    },
    async (request, reply) => {
      const { collection, id } = request.params as { collection: string; id: string };
      const query = request.query as { tenant?: string; title?: string; uri?: string };
      const keyTenant = options.tenantOf?.(request);
      if (keyTenant !== undefined && query.tenant !== undefined && query.tenant !== keyTenant)
        throw new SluiceError(
          'TENANT_FORBIDDEN',
          `this API key writes to tenant '${keyTenant}' only`,
        );
      const tenant = keyTenant ?? query.tenant ?? request.principal?.tenant;
      if (tenant === undefined)
        throw new SluiceError('REQUEST_INVALID', 'name the tenant: ?tenant=…', {
          details: { pointer: '/querystring/tenant' },
        });
      const body = (request.body as Buffer | undefined) ?? Buffer.alloc(0);
      const contentType = request.headers['content-type'];
      const file = /^multipart\/form-data/i.test(contentType ?? '')
        ? firstFilePart(body, contentType!)
        : {
            bytes: body,
            ...(contentType === undefined ? {} : { mediaType: contentType }),
          };
      const result = await options.producer.publishFile(
        {
          tenant,
          collection,
          documentId: id,
          ...(query.title === undefined ? {} : { title: query.title }),
          ...(query.uri === undefined ? {} : { uri: query.uri }),
        },
        file.bytes,
        {
          ...(file.mediaType === undefined ? {} : { mediaType: file.mediaType }),
          ...('filename' in file && file.filename !== undefined ? { filename: file.filename } : {}),
        },
      );
      return reply.code(202).send({
        status: result.duplicate ? 'duplicate' : 'accepted',
        id: result.id,
        version: result.seq,
        file: {
          size: file.bytes.length,
          ...(file.mediaType === undefined ? {} : { mediaType: file.mediaType }),
          ...('filename' in file && file.filename !== undefined ? { filename: file.filename } : {}),
        },
      });
    },
  );
}
