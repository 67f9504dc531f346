import Type, { type Static } from 'typebox';

/**
 * Event contracts. These TypeBox definitions are the single source: the TypeScript
 * types come from `Static<>`, the validators are ajv-compiled from the same objects,
 * and schemas/*.schema.json are emitted from them (`npm run schemas`).
 */

/** Tenant and collection names: a safe token for subjects, SQL identifiers and URLs. */
export const Token = Type.String({
  pattern: '^[a-z0-9][a-z0-9_-]{0,62}$',
  description:
    'lowercase letters, digits, "_" and "-", starting with a letter or digit, at most 63 characters',
});

/**
 * Refuses `.` and `..`: every URL parser (fetch, browsers, curl, proxies) resolves such a
 * path segment away, `%2E` included, so `/v1/documents/{collection}/{id}` could never
 * reach the document.
 */
export const DOT_SEGMENT_PATTERN = '^(?!\\.\\.?$)';

export const DocumentId = Type.String({
  minLength: 1,
  maxLength: 1024,
  pattern: DOT_SEGMENT_PATTERN,
  description:
    "any string but '.' and '..' (a URL path cannot carry them); encoded into a subject-safe key for NATS",
});

export const MetadataValue = Type.Union([
  Type.String({ maxLength: 2048 }),
  Type.Number(),
  Type.Boolean(),
  Type.Null(),
  Type.Array(Type.Union([Type.String({ maxLength: 2048 }), Type.Number(), Type.Boolean()]), {
    maxItems: 64,
  }),
]);

export const Metadata = Type.Record(Type.String({ minLength: 1, maxLength: 128 }), MetadataValue, {
  maxProperties: 64,
  // A Record's key schema becomes a pattern that matches any key: the key limits are
  // enforced here, or an empty or 10 KB key would pass.
  propertyNames: { minLength: 1, maxLength: 128 },
  description: 'flat key/value pairs (scalars or arrays of scalars), used for equality filters',
});

/** Where a claim-checked text body lives in the JetStream object store. */
export const TextRef = Type.Object(
  {
    bucket: Type.String({ minLength: 1, maxLength: 255 }),
    name: Type.String({ minLength: 1, maxLength: 1024 }),
    size: Type.Integer({ minimum: 0, description: 'UTF-8 bytes of the text' }),
    sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  },
  { additionalProperties: false },
);

export const mimeTypes = ['text/plain', 'text/markdown'] as const;

/** Where a raw file (PDF, HTML, DOCX…) lives in the files bucket: the claim check of a file event. */
export const FileRef = Type.Object(
  {
    bucket: Type.String({ minLength: 1, maxLength: 255 }),
    name: Type.String({
      minLength: 1,
      maxLength: 1024,
      description: 'tenant/collection/document key/sha256: the tenant prefix is checked on read',
    }),
    size: Type.Integer({ minimum: 0, description: 'bytes of the file' }),
    sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    mediaType: Type.Optional(
      Type.String({
        maxLength: 255,
        description: 'the media type the sender declared; the parser sniffs the bytes too',
      }),
    ),
    filename: Type.Optional(Type.String({ maxLength: 1024 })),
  },
  { additionalProperties: false },
);

export const DocumentFileV1 = Type.Object(
  {
    tenant: Token,
    collection: Token,
    documentId: DocumentId,
    title: Type.Optional(
      Type.String({ maxLength: 1024, description: "overrides the file's own title" }),
    ),
    file: FileRef,
    uri: Type.Optional(Type.String({ format: 'uri-reference', maxLength: 4096 })),
    metadata: Type.Optional(Metadata),
    callbackUrl: Type.Optional(
      Type.String({
        format: 'uri',
        pattern: '^https?://',
        maxLength: 2048,
        description: 'called when indexed',
      }),
    ),
  },
  { additionalProperties: false },
);

export const DocumentUpsertedV1 = Type.Object(
  {
    tenant: Token,
    collection: Token,
    documentId: DocumentId,
    title: Type.Optional(Type.String({ maxLength: 1024 })),
    text: Type.Optional(
      Type.String({ description: 'the document text; or textRef when claim-checked' }),
    ),
    textRef: Type.Optional(TextRef),
    uri: Type.Optional(Type.String({ format: 'uri-reference', maxLength: 4096 })),
    mimeType: Type.Optional(
      Type.Union([Type.Literal('text/plain'), Type.Literal('text/markdown')], {
        description: 'how the text is split; text/plain when absent',
      }),
    ),
    metadata: Type.Optional(Metadata),
    callbackUrl: Type.Optional(
      Type.String({
        format: 'uri',
        pattern: '^https?://',
        maxLength: 2048,
        description: 'called when indexed',
      }),
    ),
  },
  {
    additionalProperties: false,
    // Exactly one of text (inline) or textRef (claim check).
    oneOf: [{ required: ['text'] }, { required: ['textRef'] }],
  },
);

export const DocumentDeletedV1 = Type.Object(
  { tenant: Token, collection: Token, documentId: DocumentId },
  { additionalProperties: false },
);

/**
 * CloudEvents 1.0 context attributes (the envelope), with Sluice's extensions:
 * `tenant` and W3C `traceparent`.
 */
export const CloudEventAttributes = Type.Object(
  {
    specversion: Type.Literal('1.0'),
    id: Type.String({ minLength: 1, maxLength: 256 }),
    source: Type.String({ minLength: 1, maxLength: 1024, format: 'uri-reference' }),
    type: Type.String({ minLength: 1, maxLength: 256 }),
    time: Type.Optional(Type.String({ format: 'date-time' })),
    subject: Type.Optional(Type.String({ maxLength: 2048 })),
    datacontenttype: Type.Optional(Type.String({ pattern: '^application/json(;.*)?$' })),
    dataschema: Type.Optional(Type.String({ format: 'uri', maxLength: 1024 })),
    tenant: Type.Optional(Token),
    traceparent: Type.Optional(
      Type.String({ pattern: '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$' }),
    ),
  },
  {
    additionalProperties: true,
    // CloudEvents 1.0 attribute naming; it also keeps extension names header-safe.
    propertyNames: { pattern: '^[a-z0-9]{1,20}$' },
  },
);

export type DocumentUpsertedV1 = Static<typeof DocumentUpsertedV1>;
export type DocumentDeletedV1 = Static<typeof DocumentDeletedV1>;
export type CloudEventAttributes = Static<typeof CloudEventAttributes>;
export type TextRef = Static<typeof TextRef>;
export type FileRef = Static<typeof FileRef>;
export type DocumentFileV1 = Static<typeof DocumentFileV1>;
export type Metadata = Static<typeof Metadata>;
export type MimeType = (typeof mimeTypes)[number];

/* ------------------------------------------------------------------ pipeline events
 * Written and read by Sluice's own roles. They are validated on read like any event
 * (a foreign client could write to these subjects too) but never accepted by ingest.
 */

export const Chunk = Type.Object(
  {
    index: Type.Integer({ minimum: 0, description: 'position in the document version' }),
    id: Type.String({
      pattern: '^[0-9a-f]{32}$',
      description: 'deterministic: tenant, collection, document id, index',
    }),
    text: Type.String({ description: 'the chunk as cut from the document' }),
    headings: Type.Array(Type.String({ maxLength: 512 }), {
      maxItems: 6,
      description: 'markdown heading path above the chunk, carried into what is embedded',
    }),
    hash: Type.String({
      pattern: '^[0-9a-f]{64}$',
      description: 'sha256 of the text that is embedded (headings + text)',
    }),
    tokens: Type.Integer({
      minimum: 0,
      description: 'tokens of the embedded text, without special tokens',
    }),
    start: Type.Integer({
      minimum: 0,
      description: 'offset of the first character in the document text',
    }),
    end: Type.Integer({ minimum: 0, description: 'offset after the last character' }),
    pages: Type.Optional(
      Type.Array(Type.Integer({ minimum: 1 }), {
        maxItems: 64,
        description: 'pages of a paged file (PDF) the chunk comes from, ascending',
      }),
    ),
  },
  { additionalProperties: false },
);

export const DocumentInfo = Type.Object(
  {
    title: Type.Optional(Type.String({ maxLength: 1024 })),
    uri: Type.Optional(Type.String({ maxLength: 4096 })),
    metadata: Type.Optional(Metadata),
  },
  { additionalProperties: false },
);

const pipelineFields = {
  tenant: Token,
  collection: Token,
  documentId: DocumentId,
  version: Type.Integer({
    minimum: 1,
    description: 'event-log sequence of the document event this derives from',
  }),
  deleted: Type.Boolean({ description: 'a tombstone: the document is gone as of this version' }),
  part: Type.Integer({
    minimum: 0,
    description: 'this message is part `part` of `parts` for the version',
  }),
  parts: Type.Integer({ minimum: 1 }),
  chunkCount: Type.Integer({
    minimum: 0,
    description: 'chunks in the whole version, over all parts',
  }),
  document: DocumentInfo,
  chunks: Type.Array(Chunk),
};

export const ChunksV1 = Type.Object(pipelineFields, { additionalProperties: false });

export const VectorsV1 = Type.Object(
  {
    ...pipelineFields,
    model: Type.String({
      minLength: 1,
      maxLength: 256,
      description: 'model id: name@sha256 prefix of the model file',
    }),
    dimensions: Type.Integer({ minimum: 1, maximum: 16_000 }),
    vectors: Type.String({
      pattern: '^[A-Za-z0-9+/]*={0,2}$',
      contentEncoding: 'base64',
      description: 'float32 little-endian, chunks.length × dimensions, L2-normalised',
    }),
  },
  { additionalProperties: false },
);

export const PageSpan = Type.Object(
  {
    page: Type.Integer({ minimum: 1 }),
    start: Type.Integer({ minimum: 0 }),
    end: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);

export const DocumentParsedV1 = Type.Object(
  {
    tenant: Token,
    collection: Token,
    documentId: DocumentId,
    version: Type.Integer({
      minimum: 1,
      description: 'event-log sequence of the file event this was parsed from',
    }),
    title: Type.Optional(Type.String({ maxLength: 1024 })),
    uri: Type.Optional(Type.String({ maxLength: 4096 })),
    metadata: Type.Optional(Metadata),
    text: Type.Optional(Type.String({ description: 'the parsed text (markdown-shaped)' })),
    textRef: Type.Optional(TextRef),
    mediaType: Type.String({ maxLength: 255, description: 'what the bytes turned out to be' }),
    pages: Type.Optional(
      Type.Array(PageSpan, {
        maxItems: 100_000,
        description: 'paged formats: text offsets [start, end) of each page',
      }),
    ),
    pagesWithoutText: Type.Optional(
      Type.Array(Type.Integer({ minimum: 1 }), {
        maxItems: 100_000,
        description: 'pages with no text layer (scans)',
      }),
    ),
    facts: Type.Object(
      {
        title: Type.Optional(Type.String({ maxLength: 1024 })),
        language: Type.Optional(Type.String({ maxLength: 32 })),
        authors: Type.Optional(Type.Array(Type.String({ maxLength: 256 }), { maxItems: 16 })),
        created: Type.Optional(Type.String({ maxLength: 64 })),
        modified: Type.Optional(Type.String({ maxLength: 64 })),
      },
      { additionalProperties: false, description: 'what the file says about itself' },
    ),
  },
  { additionalProperties: false, oneOf: [{ required: ['text'] }, { required: ['textRef'] }] },
);

export const stages = ['chunked', 'embedded', 'indexed', 'failed'] as const;

export const DocumentStatusV1 = Type.Object(
  {
    tenant: Token,
    collection: Token,
    documentId: DocumentId,
    version: Type.Integer({ minimum: 1 }),
    stage: Type.Union([
      Type.Literal('chunked'),
      Type.Literal('embedded'),
      Type.Literal('indexed'),
      Type.Literal('failed'),
    ]),
    at: Type.String({ format: 'date-time' }),
    part: Type.Optional(Type.Integer({ minimum: 0 })),
    parts: Type.Optional(Type.Integer({ minimum: 1 })),
    chunkCount: Type.Optional(Type.Integer({ minimum: 0 })),
    model: Type.Optional(Type.String({ maxLength: 256 })),
    /** chunked, of a parsed file: what the file says about itself (the parsed event's facts). */
    facts: Type.Optional(DocumentParsedV1.properties.facts),
    cache: Type.Optional(
      Type.Object(
        { hits: Type.Integer({ minimum: 0 }), misses: Type.Integer({ minimum: 0 }) },
        { additionalProperties: false },
      ),
    ),
    error: Type.Optional(
      Type.Object(
        { code: Type.String(), message: Type.String({ maxLength: 2048 }), consumer: Type.String() },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export type Chunk = Static<typeof Chunk>;
export type DocumentInfo = Static<typeof DocumentInfo>;
export type ChunksV1 = Static<typeof ChunksV1>;
export type VectorsV1 = Static<typeof VectorsV1>;
export type DocumentStatusV1 = Static<typeof DocumentStatusV1>;
export type DocumentParsedV1 = Static<typeof DocumentParsedV1>;
export type PageSpan = Static<typeof PageSpan>;
export type Stage = (typeof stages)[number];
