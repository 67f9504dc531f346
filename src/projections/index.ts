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
