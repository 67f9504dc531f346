/**
 * The indexer's public surface: its role, its replay target, and the questions other
 * modules ask about its tables (search, coverage, a document's chunks, fusion weights,
 * models' rows), so that none of them reads those tables.
 */
export { type ModelCoverage, coverageCounts, modelCoverage } from './coverage.js';
export { documentChunks } from './document-chunks.js';
export { type FusionSetting, deleteFusion, getFusion, setFusion } from './fusion-store.js';
export { DEFAULT_VECTOR_WEIGHT, FUSION_CANDIDATES, type Scored, fuse } from './fusion.js';
export { BM25 } from './keyword-index.js';
export { KeywordMemory } from './keyword-memory.js';
export { dropModelIndex, indexedPerModel } from './models.js';
export { indexReplayTarget } from './replay-target.js';
export { startIndexerRole } from './role.js';
export { queryTerms, search } from './search.js';
export { SelfCalibrator } from './self-calibrator.js';
