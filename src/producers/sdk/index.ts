export { ClaimCheck, claimCheckPrefix } from './claim-check.js';
export { dedupeId } from './dedupe-id.js';
export {
  type BatchOptions,
  type BatchResult,
  type BatchStatus,
  type BatchSummary,
} from './publish-batch.js';
export {
  Producer,
  type ProducerOptions,
  type PublishOptions,
  type PublishResult,
} from './producer.js';
