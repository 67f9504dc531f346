import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SluiceError } from '../errors/index.js';

export type ModelDtype = 'auto' | 'q8' | 'fp32';

/** What Sluice knows about an embedding model; `id` is stored with every vector. */
export interface ModelSpec {
  /** As configured: a folder under the models dir, or a Hugging Face id. */
  name: string;
  /** Subject- and name-safe form of the name, for vectors subjects and durables. */
  key: string;
  /** name@first 12 hex of the ONNX file's sha256: two files never share an id. */
  id: string;
  dir: string;
  file: string;
  sha256: string;
  dimensions: number;
  /** Tokens the model reads, special tokens included (sentence-transformers' max_seq_length). */
  maxTokens: number;
  pooling: 'mean';
  normalize: true;
}

export function modelKey(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '_')
    .slice(0, 48);
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

function readJson(path: string): Record<string, unknown> | undefined {
  return existsSync(path)
    ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>)
    : undefined;
}

function pickFile(dir: string, dtype: ModelDtype): string | undefined {
  const q8 = join(dir, 'onnx/model_quantized.onnx');
  const fp32 = join(dir, 'onnx/model.onnx');
  if (dtype === 'q8') return existsSync(q8) ? q8 : undefined;
  if (dtype === 'fp32') return existsSync(fp32) ? fp32 : undefined;
  return [q8, fp32].find((f) => existsSync(f));
}

/**
 * Describes a model folder in the Hugging Face layout (tokenizer.json, config.json,
 * onnx/*.onnx). Max tokens come from sentence_bert_config.json (max_seq_length) when
 * present, else 256, capped by the tokenizer's model_max_length.
 */
export async function describeModel(
  modelsDir: string,
  name: string,
  dtype: ModelDtype,
): Promise<ModelSpec> {
  const dir = resolve(modelsDir, name);
  if (!existsSync(join(dir, 'tokenizer.json'))) {
    throw new SluiceError(
      'MODEL_NOT_FOUND',
      `model ${name} not found in ${resolve(modelsDir)} (no tokenizer.json); ` +
        'set SLUICE_MODELS_DIR to the folder that has it, SLUICE_MODELS to another model, or SLUICE_ALLOW_REMOTE_MODELS=true to download it from the Hugging Face hub',
    );
  }
  const file = pickFile(dir, dtype);
  if (file === undefined) {
    throw new SluiceError(
      'MODEL_NOT_FOUND',
      `model ${name} has no ${dtype === 'auto' ? '' : `${dtype} `}ONNX file under ${join(dir, 'onnx')}`,
    );
  }
  const config = readJson(join(dir, 'config.json')) ?? {};
  const st = readJson(join(dir, 'sentence_bert_config.json'));
  const tok = readJson(join(dir, 'tokenizer_config.json')) ?? {};
  const dimensions = Number(config.hidden_size ?? config.d_model ?? 0);
  const tokenizerMax = Number(tok.model_max_length ?? 512);
  const maxTokens = Math.min(
    Number(st?.max_seq_length ?? 256),
    tokenizerMax > 0 && tokenizerMax < 1e6 ? tokenizerMax : 512,
  );
  const sha256 = await sha256File(file);
  return {
    name,
    key: modelKey(name),
    id: `${name}@${sha256.slice(0, 12)}`,
    dir,
    file,
    sha256,
    dimensions,
    maxTokens,
    pooling: 'mean',
    normalize: true,
  };
}

/**
 * Makes sure a model is on disk: a local folder is used as is; otherwise, when remote
 * models are allowed, transformers.js downloads the tokenizer and the ONNX file from
 * the Hugging Face hub into the models dir (its cache layout is the same folder layout).
 */
export async function ensureModel(
  modelsDir: string,
  name: string,
  dtype: ModelDtype,
  allowRemote: boolean,
): Promise<ModelSpec> {
  const dir = resolve(modelsDir, name);
  if (!existsSync(join(dir, 'tokenizer.json')) && allowRemote) {
    const { env, pipeline } = await import('@huggingface/transformers');
    env.allowRemoteModels = true;
    env.cacheDir = resolve(modelsDir);
    env.localModelPath = resolve(modelsDir);
    try {
      const p = await pipeline('feature-extraction', name, {
        dtype: dtype === 'fp32' ? 'fp32' : 'q8',
      });
      await p.dispose();
    } catch (err) {
      // transformers.js throws fetch and hub errors with stacks deep in its loader: say
      // instead what was missing, where Sluice looked and what changes it.
      throw new SluiceError(
        'MODEL_UNAVAILABLE',
        `model ${name} is not in ${dir} and could not be downloaded from the Hugging Face hub ` +
          `(${err instanceof Error ? err.message.split('\n')[0] : String(err)}). ` +
          'Put the model folder there (tokenizer.json, config.json, onnx/model*.onnx), or point ' +
          'SLUICE_MODELS_DIR at a folder that has it, or choose another model with SLUICE_MODELS',
        { cause: err },
      );
    }
  }
  return describeModel(modelsDir, name, dtype);
}
