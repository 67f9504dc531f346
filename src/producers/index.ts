export {
  countInputs,
  readInputs,
  type DocumentDefaults,
  type InputItem,
} from './cli/read-inputs.js';
export { formatReport, runPublish, type Problem, type PublishReport } from './cli/publish.js';
export { registerIngestRoute, type IngestRouteOptions } from './http/ingest-route.js';
export * from './sdk/index.js';
