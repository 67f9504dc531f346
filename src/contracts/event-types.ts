import type { Static, TSchema } from 'typebox';
import { DocumentDeletedV1, DocumentUpsertedV1, type CloudEventAttributes } from './schemas.js';

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
  'sluice.document.deleted.v1': {
    name: 'document.deleted',
    version: 1,
    schema: DocumentDeletedV1,
    description: 'A document was deleted; a later older upsert can never bring it back.',
  },
} as const satisfies Record<string, EventTypeSpec>;

export type EventType = keyof typeof eventTypes;
export type EventData<T extends EventType> = Static<(typeof eventTypes)[T]['schema']>;

/** A CloudEvent of one of Sluice's types, in its structured (JSON) form. */
export type SluiceEvent = {
  [T in EventType]: CloudEventAttributes & { type: T; data: EventData<T> };
}[EventType];

export type DocumentEvent = SluiceEvent;

/** The URI put in `dataschema`: names the schema file a consumer can validate against. */
export function dataschemaOf(type: EventType): string {
  const spec = eventTypes[type];
  return `urn:sluice:schema:${spec.name}.v${spec.version}`;
}

/** File name of the emitted JSON Schema, under schemas/. */
export function schemaFileOf(type: EventType): string {
  const spec = eventTypes[type];
  return `${spec.name}.v${spec.version}.schema.json`;
}

export function isEventType(type: unknown): type is EventType {
  return typeof type === 'string' && Object.hasOwn(eventTypes, type);
}
