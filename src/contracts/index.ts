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
  isPipelineEventType,
  pipelineEventTypes,
  schemaFileOf,
  type AnyEventType,
  type EventData,
  type EventType,
  type PipelineData,
  type PipelineEvent,
  type PipelineEventType,
  type SluiceEvent,
} from './event-types.js';
export * from './schemas.js';
export { MAX_JSON_DEPTH, nestedTooDeep } from './json-depth.js';
export {
  unstorable,
  validateEvent,
  validatePipelineEvent,
  type ValidationIssue,
} from './validate.js';
export { packVectors, unpackVectors } from './vector-codec.js';
export { embedTextOf, headingPrefix } from './chunk-text.js';
export {
  essence,
  fileMediaTypes,
  mediaTypeOfName,
  readableMediaType,
  sniff,
  type FileMediaType,
} from './media-types.js';
