import Type from 'typebox';
import { Metadata, Token } from '../contracts/index.js';

/** HTTP request and response schemas: Fastify validates with them and /docs shows them. */

export const ErrorResponse = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  }),
});

export const SearchRequest = Type.Object(
  {
    query: Type.String({
      minLength: 1,
      maxLength: 2000,
      // PostgreSQL text cannot hold NUL: say so instead of failing inside the query.
      pattern: '^[^\\u0000]*$',
      description: 'what to look for (no NUL characters)',
    }),
    collection: Type.Optional(Token),
    k: Type.Integer({
      minimum: 1,
      maximum: 100,
      default: 10,
      description: 'how many chunks to return',
    }),
    mode: Type.Union([Type.Literal('vector'), Type.Literal('keyword'), Type.Literal('hybrid')], {
      default: 'hybrid',
    }),
    filter: Type.Optional(
      Type.Object(
        {
          metadata: Type.Optional(Metadata),
          documentIds: Type.Optional(
            Type.Array(Type.String({ minLength: 1, maxLength: 1024 }), {
              minItems: 1,
              maxItems: 1000,
            }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    model: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 256,
        description: 'a served model name; default: the first of SLUICE_MODELS',
      }),
    ),
    consistentWith: Type.Optional(
      Type.Object(
        {
          documentId: Type.String({ minLength: 1, maxLength: 1024 }),
          version: Type.Integer({
            minimum: 1,
            description: 'the version an ingest answer returned',
          }),
          collection: Type.Optional(Token),
          timeoutMs: Type.Optional(
            Type.Integer({
              minimum: 0,
              maximum: 30_000,
              description: 'how long to wait for it; default 5000',
            }),
          ),
        },
        {
          additionalProperties: false,
          description:
            'search only once this document version (or a later one) is searchable; 409 NOT_YET_INDEXED if it is not within timeoutMs',
        },
      ),
    ),
    fusion: Type.Optional(
      Type.Object(
        {
          vectorWeight: Type.Number({
            minimum: 0,
            maximum: 1,
            description:
              "hybrid: weight of the vector side (0: keyword only, 1: vector only); default: the collection's stored weight",
          }),
        },
        { additionalProperties: false },
      ),
    ),
    exact: Type.Optional(
      Type.Boolean({
        description:
          'vector: scan every chunk instead of the HNSW index (slow; for measuring recall)',
      }),
    ),
  },
  { additionalProperties: false },
);

export const SearchHit = Type.Object({
  score: Type.Number(),
  collection: Type.String(),
  documentId: Type.String(),
  chunkIndex: Type.Integer(),
  chunkId: Type.String(),
  text: Type.String(),
  headings: Type.Array(Type.String()),
  pages: Type.Array(Type.Integer(), {
    description: 'pages of a paged file (PDF) the chunk comes from; empty for other documents',
  }),
  title: Type.Union([Type.String(), Type.Null()]),
  uri: Type.Union([Type.String(), Type.Null()]),
  metadata: Type.Record(Type.String(), Type.Unknown()),
});

export const FusionUsed = Type.Object({
  vectorWeight: Type.Number(),
  source: Type.Union(
    [
      Type.Literal('request'),
      Type.Literal('self-calibrated'),
      Type.Literal('calibrated'),
      Type.Literal('configured'),
      Type.Literal('default'),
      Type.Literal('no-keyword-terms'),
    ],
    {
      description:
        'where the weight came from: the request, the collection (self-calibrated on queries made from its text, calibrated by sluice eval on judged queries, or set by hand), the default, or 1 because the query has no keyword terms',
    },
  ),
});

export const SearchResponse = Type.Object({
  mode: Type.String(),
  model: Type.String(),
  tookMs: Type.Number(),
  /** Hybrid only: the fusion weight used. */
  fusion: Type.Optional(FusionUsed),
  results: Type.Array(SearchHit),
});

export const FusionSettingBody = Type.Object(
  {
    model: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 256,
        description: "a served model name; default: the collection's",
      }),
    ),
    vectorWeight: Type.Number({ minimum: 0, maximum: 1 }),
    calibration: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
);

export const FusionSettingResponse = Type.Object({
  collection: Type.String(),
  model: Type.String(),
  vectorWeight: Type.Number(),
  source: Type.Union([
    Type.Literal('self-calibrated'),
    Type.Literal('calibrated'),
    Type.Literal('configured'),
    Type.Literal('default'),
  ]),
  /** How it was chosen; self-calibrated: queries (count), chunks, keyword and vector scores. */
  calibration: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  updatedAt: Type.Union([Type.String(), Type.Null()]),
});

export const SelfCalibrationResponse = Type.Object({
  ...FusionSettingResponse.properties,
  /** What self-calibration chose now (stored or not). */
  selfCalibration: Type.Record(Type.String(), Type.Unknown()),
  /** False when a weight calibrated on judged queries or set by hand is kept instead. */
  stored: Type.Boolean(),
});

const Stamp = Type.Union([Type.String(), Type.Null()]);

export const DocumentResponse = Type.Object({
  collection: Type.String(),
  id: Type.String(),
  version: Type.Integer(),
  status: Type.String(),
  /** The title the event gave (`?title=` on an upload), else the one the parsed file has. */
  title: Type.Union([Type.String(), Type.Null()]),
  uri: Type.Union([Type.String(), Type.Null()]),
  mimeType: Type.Union([Type.String(), Type.Null()]),
  metadata: Type.Record(Type.String(), Type.Unknown()),
  /** What a parsed file (PDF, HTML, DOCX) says about itself; null for a text document. */
  facts: Type.Union([
    Type.Object({
      title: Type.Optional(Type.String()),
      language: Type.Optional(Type.String()),
      authors: Type.Optional(Type.Array(Type.String())),
      created: Type.Optional(Type.String()),
      modified: Type.Optional(Type.String()),
    }),
    Type.Null(),
  ]),
  contentHash: Type.Union([Type.String(), Type.Null()]),
  bytes: Type.Integer(),
  chunkCount: Type.Union([Type.Integer(), Type.Null()]),
  modelId: Type.Union([Type.String(), Type.Null()]),
  stages: Type.Object({
    received: Stamp,
    chunked: Stamp,
    embedded: Stamp,
    indexed: Stamp,
    failed: Stamp,
    deleted: Stamp,
  }),
  lastError: Type.Union([
    Type.Object({
      code: Type.String(),
      message: Type.String(),
      consumer: Type.String(),
      at: Type.String(),
    }),
    Type.Null(),
  ]),
  updatedAt: Type.String(),
});

export const DocumentListQuery = Type.Object(
  {
    collection: Type.Optional(Token),
    status: Type.Optional(
      Type.Union([
        Type.Literal('received'),
        Type.Literal('chunked'),
        Type.Literal('embedded'),
        Type.Literal('indexed'),
        Type.Literal('failed'),
        Type.Literal('deleted'),
      ]),
    ),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
  },
  { additionalProperties: false },
);

export const DocumentList = Type.Object({
  items: Type.Array(DocumentResponse),
  next: Type.Union([Type.String(), Type.Null()]),
});

export const CollectionList = Type.Object({
  items: Type.Array(
    Type.Object({
      name: Type.String(),
      documentCount: Type.Integer(),
      chunkCount: Type.Integer(),
      bytes: Type.Integer(),
      lastEventAt: Stamp,
      /** Documents per status (received, chunked, embedded, indexed, failed, deleted). */
      statuses: Type.Record(Type.String(), Type.Integer()),
    }),
  ),
});
