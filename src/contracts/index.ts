export {
  decodeHeaderValue,
  encodeHeaderValue,
  fromMessage,
  toBinaryMessage,
} from './cloudevents.js';
export {
  dataschemaOf,
  eventTypes,
  isEventType,
  schemaFileOf,
  type EventData,
  type EventType,
  type SluiceEvent,
} from './event-types.js';
export * from './schemas.js';
export { validateEvent, type ValidationIssue } from './validate.js';
