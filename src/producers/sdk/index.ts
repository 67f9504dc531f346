export { ClaimCheck, claimCheckPrefix } from './claim-check.js';
export {
  Producer,
  dedupeId,
  type BatchOptions,
  type BatchResult,
  type BatchStatus,
  type BatchSummary,
  type ProducerOptions,
  type PublishOptions,
  type PublishResult,
} from './producer.js';
