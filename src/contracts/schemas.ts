/**
 * Event contracts. These TypeBox definitions are the single source: the TypeScript
 * types come from `Static<>`, the validators are ajv-compiled from the same objects,
 * and schemas/*.schema.json are emitted from them (`npm run schemas`). The events
 * clients send are in document-events.ts; those Sluice's roles write for each other
 * in pipeline-events.ts.
 */
export * from './document-events.js';
export * from './pipeline-events.js';
