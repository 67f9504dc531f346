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
export { startTracing, type Tracing, type TracingOptions } from './provider.js';
