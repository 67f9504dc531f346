// The SDK (provider.ts) is loaded only when tracing is started (app/tracing.ts): it
// costs about 100 ms at import, and every CLI command loads this module through the logger.
export {
  endSpan,
  extractTrace,
  inSpan,
  linksTo,
  processSpan,
  sendSpan,
  subjectKind,
  traceFields,
  tracer,
} from './messaging.js';
export { type Tracing } from './provider.js';
