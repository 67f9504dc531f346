import Type, { type Static } from 'typebox';

/**
 * Events clients send (ingest): documents upserted, deleted and files, and the
 * CloudEvents attributes around them. See schemas.ts for how the contracts are used.
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

/** Where Sluice tells the sender that its document is indexed (checked by the outbound guard). */
const CallbackUrl = Type.String({
  format: 'uri',
  pattern: '^https?://',
  maxLength: 2048,
  description: 'called when indexed',
});

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
    callbackUrl: Type.Optional(CallbackUrl),
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
    callbackUrl: Type.Optional(CallbackUrl),
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
