export { classify, type Failure } from './classify.js';
export {
  DurableConsumer,
  defaultRetryPolicy,
  type BatchHandler,
  type ConsumerSpec,
  type Delivery,
  type RetryPolicy,
  type RuntimeDeps,
} from './consumer.js';
export {
  H,
  appendHistory,
  letterHeaders,
  readLetter,
  type AttemptRecord,
  type Letter,
} from './letter.js';
export { PipelinePublisher, type PipelinePublisherOptions } from './publisher.js';
export { Breakers, type Dependency } from './breakers.js';
export { inDelivery } from './consumer.js';
export { decodeDocumentEvent, decodePipelineEvent } from './decode.js';
export { type RuntimeSettings, runtimeDeps } from './deps.js';
export { reportFailedStage } from './failed-status.js';
export { type ReplayTarget } from './replay-target.js';
export { type RoleContext, type RoleHandle, type RoleStarter } from './role.js';
export { timeSlicer } from './time-slice.js';
export { PublishReach, attachPublishReach, streamOfSubject } from './publish-reach.js';
