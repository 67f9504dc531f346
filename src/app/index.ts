/** The composition root, for the entry points (cli/) only. */
export { startApp } from './start.js';
export { startConfiguredTracing } from './tracing.js';
