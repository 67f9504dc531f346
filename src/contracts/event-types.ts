import type { Static, TSchema } from 'typebox';
import {
  ChunksV1,
  DocumentDeletedV1,
  DocumentFileV1,
  DocumentParsedV1,
  DocumentStatusV1,
  DocumentUpsertedV1,
  VectorsV1,
  type CloudEventAttributes,
} from './schemas.js';

interface EventTypeSpec {
  /** Short name and version, as used for file names: document.upserted v1. */
  name: string;
  version: number;
  schema: TSchema;
  description: string;
}

/**
 * Every event type Sluice accepts, by CloudEvents `type`. A new version is a new
 * entry (and a new schema file); an old one is never changed once shipped.
 */
export const eventTypes = {
  'sluice.document.upserted.v1': {
    name: 'document.upserted',
    version: 1,
    schema: DocumentUpsertedV1,
    description:
      'A document was created or changed: its full text (or a claim-check reference) and attributes.',
  },
  'sluice.document.file.v1': {
    name: 'document.file',
    version: 1,
    schema: DocumentFileV1,
    description:
      'A document was created or changed as a raw file (PDF, HTML, DOCX, text): a claim check of its bytes in the files bucket; the parser turns it into text.',
  },
  'sluice.document.deleted.v1': {
    name: 'document.deleted',
    version: 1,
    schema: DocumentDeletedV1,
    description: 'A document was deleted; a later older upsert can never bring it back.',
  },
} as const satisfies Record<string, EventTypeSpec>;

/**
 * Events Sluice's roles write for each other. Same rules, but ingest never accepts them.
 */
export const pipelineEventTypes = {
  'sluice.document.parsed.v1': {
    name: 'document.parsed',
    version: 1,
    schema: DocumentParsedV1,
    description:
      'A file event parsed into markdown-shaped text with its page map and facts, parser → chunker.',
  },
  'sluice.chunks.v1': {
    name: 'chunks',
    version: 1,
    schema: ChunksV1,
    description:
      'Chunks of one document version (one part of them when the document is large), chunker → embedders.',
  },
  'sluice.vectors.v1': {
    name: 'vectors',
    version: 1,
    schema: VectorsV1,
    description:
      "The chunks of a chunks event with one model's vectors, packed float32, embedder → indexer.",
  },
  'sluice.document.status.v1': {
    name: 'document.status',
    version: 1,
    schema: DocumentStatusV1,
    description: 'A document version reached a stage (or failed), for the projections.',
  },
} as const satisfies Record<string, EventTypeSpec>;

export type EventType = keyof typeof eventTypes;
export type PipelineEventType = keyof typeof pipelineEventTypes;
export type AnyEventType = EventType | PipelineEventType;

const allTypes = { ...eventTypes, ...pipelineEventTypes };
export type EventData<T extends EventType> = Static<(typeof eventTypes)[T]['schema']>;

/** A CloudEvent of one of Sluice's types, in its structured (JSON) form. */
export type SluiceEvent = {
  [T in EventType]: CloudEventAttributes & { type: T; data: EventData<T> };
}[EventType];

export type DocumentEvent = SluiceEvent;

export type PipelineData<T extends PipelineEventType> = Static<
  (typeof pipelineEventTypes)[T]['schema']
>;

/** A pipeline CloudEvent of type T, structured form. */
export type PipelineEvent<T extends PipelineEventType> = CloudEventAttributes & {
  type: T;
  data: PipelineData<T>;
};

/** The URI put in `dataschema`: names the schema file a consumer can validate against. */
export function dataschemaOf(type: AnyEventType): string {
  const spec = allTypes[type];
  return `urn:sluice:schema:${spec.name}.v${spec.version}`;
}

/** File name of the emitted JSON Schema, under schemas/. */
export function schemaFileOf(type: AnyEventType): string {
  const spec = allTypes[type];
  return `${spec.name}.v${spec.version}.schema.json`;
}

export function isEventType(type: unknown): type is EventType {
  return typeof type === 'string' && Object.hasOwn(eventTypes, type);
}

export function isPipelineEventType(type: unknown): type is PipelineEventType {
  return typeof type === 'string' && Object.hasOwn(pipelineEventTypes, type);
}
