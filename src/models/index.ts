export {
  Embedder,
  cudaLibraryMissing,
  loadTokenizer,
  type EmbedOptions,
  type EmbedderOptions,
  type Provider,
} from './embedder.js';
export {
  describeModel,
  ensureModel,
  modelKey,
  type ModelDtype,
  type ModelSpec,
} from './model-registry.js';
export { cosine, meanPoolNormalize } from './pooling.js';
