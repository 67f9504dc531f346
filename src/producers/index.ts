export {
  countInputs,
  readInputs,
  type DocumentDefaults,
  type InputItem,
} from './cli/read-inputs.js';
export {
  formatReport,
  runPublish,
  type Problem,
  type PublishReport,
  type PublishedVersion,
} from './cli/publish.js';
export { waitSearchable, type WaitReport } from './cli/wait.js';
export { registerIngestRoute, type IngestRouteOptions } from './http/ingest-route.js';
export * from './sdk/index.js';
export { registerFileRoute } from './http/file-route.js';
