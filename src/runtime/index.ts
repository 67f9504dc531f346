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
