export { Embedder, type EmbedderOptions } from './embedder.js';
export {
  Inference,
  cudaLibraryMissing,
  loadTokenizer,
  type EmbedOptions,
  type InferenceOptions,
  type Provider,
} from './inference.js';
export {
  describeModel,
  ensureModel,
  modelKey,
  type ModelDtype,
  type ModelSpec,
} from './model-registry.js';
export { cosine, meanPoolNormalize } from './pooling.js';
