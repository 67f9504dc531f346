/**
 * Registry of stable error codes. A code is never reused or renamed once shipped;
 * retire it by leaving it here with `retired: true`. docs/errors.md is generated from
 * this table (`npm run docs`) and a unit test keeps the two in step.
 */
export const errorCodes = {
  CONFIG_INVALID: {
    status: 500,
    retryable: false,
    description: 'A configuration value is missing or malformed; the message names the variable.',
  },
  NATS_UNAVAILABLE: {
    status: 503,
    retryable: true,
    description:
      "The NATS server cannot be reached or JetStream is not answering, or a stage's publish got no answer from NATS or the stream's leader within SLUICE_PUBLISH_DEADLINE (an outage: the stage holds its work, attempts unspent).",
  },
  DB_UNAVAILABLE: {
    status: 503,
    retryable: true,
    description: 'PostgreSQL cannot be reached or refused the connection.',
  },
  DB_EXTENSION_MISSING: {
    status: 500,
    retryable: false,
    description: 'The PostgreSQL server has no pgvector extension (install pgvector >= 0.8).',
  },
  EVENT_INVALID: {
    status: 400,
    retryable: false,
    description:
      'An event breaks its contract (schemas/); details.pointer is a JSON pointer to the first bad field.',
  },
  EVENT_TYPE_UNKNOWN: {
    status: 400,
    retryable: false,
    description: 'The CloudEvents type is not one Sluice knows (see schemas/).',
  },
  EVENT_SUBJECT_MISMATCH: {
    status: 400,
    retryable: false,
    description:
      "A message's NATS subject does not match the tenant, collection or document in its data.",
  },
  EVENT_TOO_LARGE: {
    status: 413,
    retryable: false,
    description:
      'An event is larger than SLUICE_MAX_MESSAGE_BYTES even with its text claim-checked.',
  },
  DOCUMENT_TOO_LARGE: {
    status: 413,
    retryable: false,
    description: 'A document text is larger than SLUICE_MAX_DOCUMENT_BYTES.',
  },
  TEXT_REF_INVALID: {
    status: 400,
    retryable: false,
    description:
      'A claim-checked text body is missing from the object store or does not match its size or sha256.',
  },
  VERSION_CONFLICT: {
    status: 409,
    retryable: false,
    description:
      'The expected document version is not the current one (a stale writer); details give both versions.',
  },
  PUBLISH_FAILED: {
    status: 503,
    retryable: true,
    description:
      'A publish did not succeed: from a producer or ingest, JetStream did not acknowledge it within the retry deadline (NATS down or electing a leader); from a stage, JetStream refused the message or the connection closed.',
  },
  TOPOLOGY_CONFLICT: {
    status: 500,
    retryable: false,
    description:
      'A stream or consumer exists with settings that cannot be updated to the declared ones.',
  },
  JSON_INVALID: {
    status: 400,
    retryable: false,
    description:
      'A body or NDJSON line is not valid JSON, not valid UTF-8, or nested deeper than 64 levels; details give the line.',
  },
  BATCH_EMPTY: {
    status: 400,
    retryable: false,
    description: 'A request carried no events.',
  },
  BATCH_TOO_LARGE: {
    status: 413,
    retryable: false,
    description:
      'An ingest request carries more events than SLUICE_INGEST_MAX_EVENTS; nothing was published. Split it.',
  },
  SEARCH_OVERLOADED: {
    status: 503,
    retryable: true,
    description:
      'Too many searches are waiting for their query to be embedded (SLUICE_SEARCH_QUEUE), or one waited past SLUICE_SEARCH_EMBED_TIMEOUT; retry after Retry-After.',
  },
  QUERY_TIMEOUT: {
    status: 503,
    retryable: true,
    description:
      'A query ran past SLUICE_STATEMENT_TIMEOUT and PostgreSQL cancelled it; narrow it (filters, a collection, a smaller k) or retry.',
  },
  BODY_TOO_LARGE: {
    status: 413,
    retryable: false,
    description: 'The request body is larger than SLUICE_HTTP_BODY_LIMIT.',
  },
  MEDIA_TYPE_UNSUPPORTED: {
    status: 415,
    retryable: false,
    description: 'The Content-Type is not one the route accepts (the message lists them).',
  },
  REQUEST_INVALID: {
    status: 400,
    retryable: false,
    description: 'A request parameter, query or body field is malformed; details.pointer names it.',
  },
  UNAUTHORIZED: {
    status: 401,
    retryable: false,
    description: 'No API key, or one that is unknown, revoked or malformed.',
  },
  FORBIDDEN: {
    status: 403,
    retryable: false,
    description:
      "The API key may not use this route: a tenant's admin routes need an admin key, installation-wide ones (replays) an operator key.",
  },
  RATE_LIMITED: {
    status: 429,
    retryable: true,
    description: 'Too many requests for this API key; wait as long as the Retry-After header says.',
  },
  WEBHOOK_LIMIT: {
    status: 409,
    retryable: false,
    description:
      'The tenant already has SLUICE_WEBHOOK_MAX_SUBSCRIPTIONS webhook subscriptions; delete one before making another.',
  },
  TENANT_FORBIDDEN: {
    status: 403,
    retryable: false,
    description: "The event or query names a tenant other than the API key's own.",
  },
  NOT_FOUND: {
    status: 404,
    retryable: false,
    description: 'The route, document, collection or dead letter does not exist.',
  },
  MODEL_NOT_FOUND: {
    status: 500,
    retryable: false,
    description:
      'An embedding model is not in SLUICE_MODELS_DIR and may not be downloaded (or has no ONNX file).',
  },
  MODEL_UNAVAILABLE: {
    status: 500,
    retryable: false,
    description:
      'An embedding model is not in SLUICE_MODELS_DIR and downloading it (SLUICE_ALLOW_REMOTE_MODELS) failed; the message names the model, the folder and the settings that change them.',
  },
  MODEL_NOT_READY: {
    status: 409,
    retryable: false,
    description:
      "A model's index does not cover the collection yet, so it cannot be activated (unless forced).",
  },
  MODEL_IN_USE: {
    status: 409,
    retryable: false,
    description: 'A model is still active for some collection, so it cannot be retired.',
  },
  MODEL_UNKNOWN: {
    status: 400,
    retryable: false,
    description: 'A request or message names a model this process does not serve.',
  },
  EMBED_PROVIDER_UNAVAILABLE: {
    status: 500,
    retryable: false,
    description: 'SLUICE_EMBED_PROVIDER=cuda but the CUDA execution provider cannot be loaded.',
  },
  CHUNK_TOO_LONG: {
    status: 400,
    retryable: false,
    description:
      "A chunk has more tokens than the model reads; the chunker's limit is above the model's.",
  },
  DATA_REJECTED: {
    status: 422,
    retryable: false,
    description:
      'PostgreSQL refused the data of a message (SQLSTATE class 22, data exception, or 23, integrity violation); the same data fails every time, so it is dead-lettered at once.',
  },
  HANDLER_FAILED: {
    status: 500,
    retryable: true,
    description:
      'A consumer failed in an unexpected way; retried, then dead-lettered with the message.',
  },
  HANDLER_TIMEOUT: {
    status: 503,
    retryable: true,
    description:
      'A stage worked on a batch longer than SLUICE_HANDLER_TIMEOUT; the batch is retried like any transient failure.',
  },
  WORKER_EXITED: {
    status: 503,
    retryable: true,
    description:
      'A worker thread (chunking or embedding) exited while it held the work; it is started again and the work retried.',
  },
  REDELIVERED_TOO_OFTEN: {
    status: 500,
    retryable: true,
    description:
      'A message kept coming back unacknowledged (its process crashed or ran past the ack wait); it is parked for a later attempt.',
  },
  REPLAY_RUNNING: {
    status: 409,
    retryable: false,
    description:
      'A replay of this projection is already running (one at a time); see sluice replay --status.',
  },
  REDRIVE_RUNNING: {
    status: 409,
    retryable: false,
    description:
      'A redrive job of the same scope is already running (one at a time); watch it at /v1/dead-letters/redrive-jobs/{id}.',
  },
  SWAP_BUSY: {
    status: 503,
    retryable: true,
    description:
      'Swapping replayed tables in (or back) waited 5 s for long queries holding the live tables and gave up; a replay retries it, a rollback can be run again.',
  },
  ROLLBACK_UNAVAILABLE: {
    status: 409,
    retryable: false,
    description:
      'There is no finished replay whose previous tables are kept, so there is nothing to roll back to.',
  },
  REPLAY_PREVIOUS_EXISTS: {
    status: 409,
    retryable: false,
    description:
      'Tables kept from the previous replay are still there; drop them (--drop-previous) or replace them (--replace-previous).',
  },
  REPLAY_NOT_RESUMABLE: {
    status: 409,
    retryable: false,
    description: 'There is no interrupted replay of this projection to resume.',
  },
  NOT_YET_INDEXED: {
    status: 409,
    retryable: true,
    description:
      'The document has not reached the version asked for (minVersion, consistentWith) within the wait; details give its current version and status.',
  },
  DOCUMENT_FAILED: {
    status: 409,
    retryable: false,
    description:
      'The document version asked for failed in a stage (it is in the dead letters); details give the error.',
  },
  WEBHOOK_TARGET_REFUSED: {
    status: 400,
    retryable: false,
    description:
      "A webhook URL or an event's callbackUrl is not http(s), carries credentials, does not resolve, or is (in any spelling) or resolves to a private, loopback, link-local or reserved address that SLUICE_WEBHOOK_ALLOW does not allow.",
  },
  QUERY_NO_TERMS: {
    status: 400,
    retryable: false,
    description:
      'A keyword search query has no searchable words (only stop words or punctuation); hybrid search falls back to vectors instead.',
  },
  PARSE_FAILED: {
    status: 422,
    retryable: false,
    description:
      'A raw document (PDF, HTML, DOCX) is malformed or truncated and the parser cannot read it; the message says what it found.',
  },
  FILE_ENCRYPTED: {
    status: 422,
    retryable: false,
    description: 'A raw document is encrypted or password-protected; send it decrypted.',
  },
  FILE_TOO_LARGE: {
    status: 413,
    retryable: false,
    description:
      'A raw document is larger than SLUICE_FILE_MAX_BYTES, has more pages than SLUICE_PARSE_MAX_PAGES, unpacks to too much (a zip bomb), or its parsing ran past SLUICE_PARSE_TIMEOUT or SLUICE_PARSE_MAX_MEMORY.',
  },
  FILE_EMPTY: {
    status: 400,
    retryable: false,
    description: 'A raw document has no bytes.',
  },
  FILE_REF_INVALID: {
    status: 400,
    retryable: false,
    description:
      "A raw document's claim check is missing from the files bucket, is not its document's, or does not match its size or sha256.",
  },
  CALIBRATION_TOO_SMALL: {
    status: 409,
    retryable: false,
    description:
      'Self-calibration needs more text than the collection has (at least 30 chunks a sentence can be held out of); hybrid keeps its current weight.',
  },
  INTERNAL: {
    status: 500,
    retryable: false,
    description: 'An unexpected failure; details are logged, never returned.',
  },
} as const satisfies Record<string, ErrorCodeInfo>;

export interface ErrorCodeInfo {
  /** HTTP status at the API boundary. */
  status: number;
  /** true: transient, worth retrying; false: permanent for this input. */
  retryable: boolean;
  description: string;
  retired?: boolean;
}

export type ErrorCode = keyof typeof errorCodes;
