export { listCollections, collectionExists, type CollectionView } from './collections/queries.js';
export {
  getDocument,
  getDocuments,
  listDocuments,
  statusCounts,
  type DocumentView,
  type ListOptions,
} from './documents/queries.js';
export type { DocumentStatus } from './documents/fold.js';
export { liveDocumentVersions } from './documents/live-versions.js';
export { startProjectorRole } from './role.js';
export { DocumentWaiters, waitForVersion, type VersionWait } from './documents/waiters.js';
export { collectionsReplayTarget, documentsReplayTarget } from './replay-targets.js';
export { type DocState, applyDoc, emptyDoc } from './documents/fold.js';
export { type DocumentsItem, documentsSources, projectionConsumer } from './projector.js';
export { type DocKey, byKey, keyOf, lockRows, sortedKeys } from './rows.js';
