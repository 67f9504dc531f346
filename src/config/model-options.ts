import { bool, duration, int, list, oneOf, pattern, str } from './options.js';
import { opt } from './option-spec.js';

/** Embedding models: which, where from, and how onnxruntime runs them. */
export const modelOptions = {
  models: opt({
    env: 'SLUICE_MODELS',
    default: 'Xenova/all-MiniLM-L6-v2',
    parse: list(
      pattern(
        /^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$/,
        'a model name such as Xenova/all-MiniLM-L6-v2',
      ),
    ),
    doc: 'Embedding models, comma-separated (folders under SLUICE_MODELS_DIR or Hugging Face ids); the first is the default for new collections.',
  }),
  modelDtype: opt({
    env: 'SLUICE_MODEL_DTYPE',
    default: 'auto',
    parse: oneOf('auto', 'q8', 'fp32'),
    doc: 'Which ONNX file to run: q8 (onnx/model_quantized.onnx), fp32 (onnx/model.onnx), or auto (q8 when present).',
  }),
  embedProvider: opt({
    env: 'SLUICE_EMBED_PROVIDER',
    default: 'auto',
    parse: oneOf('auto', 'cpu', 'cuda'),
    doc: 'onnxruntime execution provider; auto tries CUDA and falls back to CPU with one log line.',
  }),
  embedThreads: opt({
    env: 'SLUICE_EMBED_THREADS',
    default: '0',
    parse: int(0, 256),
    doc: 'onnxruntime intra-op threads (0: one per core the process may use, its cgroup CPU limit included).',
  }),
  embedBatchSize: opt({
    env: 'SLUICE_EMBED_BATCH',
    default: '8',
    parse: int(1, 1024),
    doc: 'Chunks per onnxruntime run, sorted by length first. 8 and 32 kept the same pace here, and 8 peaked 250 MB lower (bench/README.md).',
  }),
  embedBatchWait: opt({
    env: 'SLUICE_EMBED_BATCH_WAIT',
    default: '50ms',
    parse: duration,
    doc: 'How long the embedder waits to fill a batch across messages before it runs a smaller one.',
  }),
  modelsDir: opt({
    env: 'SLUICE_MODELS_DIR',
    default: './models',
    parse: str,
    doc: 'Folder of embedding models (one subfolder per model, Hugging Face layout).',
  }),
  allowRemoteModels: opt({
    env: 'SLUICE_ALLOW_REMOTE_MODELS',
    default: 'false',
    parse: bool,
    doc: 'Download missing models from the Hugging Face hub into SLUICE_MODELS_DIR.',
  }),
};
