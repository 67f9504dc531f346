export {
  applyTopology,
  inspectTopology,
  type Declared,
  type TopologyRow,
  type TopologyState,
} from './apply.js';
export {
  bodiesBucket,
  filesBucket,
  processesBucket,
  consumerPair,
  retryDurable,
  declareStreams,
  durableConsumer,
  streamName,
  type ConsumerOptions,
  type DeclaredConsumer,
  type DeclaredStream,
  type StreamKey,
  type TopologyOptions,
} from './declare.js';
export { docKey, documentIdOf } from './doc-key.js';
export { Subjects, type DocRef } from './subjects.js';
export { deleteNamespace } from './teardown.js';
export {
  declareTopology,
  durables,
  projections,
  topologyOptions,
  type TopologySettings,
} from './topology.js';
