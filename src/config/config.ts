import { SluiceError } from '../errors/index.js';
import { chunkingOptions } from './chunking-options.js';
import { documentOptions } from './document-options.js';
import { httpOptions } from './http-options.js';
import { modelOptions } from './model-options.js';
import { type OptionSpec, type OptionValues } from './option-spec.js';
import { redact } from './options.js';
import { processOptions } from './process-options.js';
import { replayOptions } from './replay-options.js';
import { retryOptions } from './retry-options.js';
import { searchOptions } from './search-options.js';
import { streamOptions } from './stream-options.js';
import { tracingOptions } from './tracing-options.js';
import { webhookOptions } from './webhook-options.js';

export { roleNames, type Role } from './roles.js';

/**
 * Every setting Sluice reads, with its default, one section per concern (each in its
 * own `*-options.ts`). This table is the single source for `loadConfig`, for
 * `sluice config`, and for the README's configuration reference (kept in step by a
 * unit test).
 */
export const configSpec = {
  ...processOptions,
  ...httpOptions,
  ...searchOptions,
  ...streamOptions,
  ...documentOptions,
  ...chunkingOptions,
  ...modelOptions,
  ...retryOptions,
  ...webhookOptions,
  ...replayOptions,
  ...tracingOptions,
};

export type ConfigSpec = typeof configSpec;
export type Config = OptionValues<ConfigSpec>;

export type ProcessConfig = OptionValues<typeof processOptions>;
export type HttpConfig = OptionValues<typeof httpOptions>;
export type SearchConfig = OptionValues<typeof searchOptions>;
export type StreamConfig = OptionValues<typeof streamOptions>;
export type DocumentConfig = OptionValues<typeof documentOptions>;
export type ChunkingConfig = OptionValues<typeof chunkingOptions>;
export type ModelConfig = OptionValues<typeof modelOptions>;
export type RetryConfig = OptionValues<typeof retryOptions>;
export type WebhookConfig = OptionValues<typeof webhookOptions>;
export type ReplayConfig = OptionValues<typeof replayOptions>;
export type TracingConfig = OptionValues<typeof tracingOptions>;

type Env = Record<string, string | undefined>;

/**
 * Parses and validates the whole configuration at once; every problem is reported
 * together in one CONFIG_INVALID error naming the variables.
 */
export function loadConfig(env: Env = process.env, overrides: Partial<Config> = {}): Config {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, spec] of Object.entries(configSpec) as [string, OptionSpec<unknown>][]) {
    if (key in overrides) {
      out[key] = (overrides as Record<string, unknown>)[key];
      continue;
    }
    const raw = env[spec.env] ?? spec.default;
    if (raw === undefined) {
      problems.push(`${spec.env} is required: ${spec.doc}`);
      continue;
    }
    try {
      out[key] = spec.parse(raw);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      problems.push(`${spec.env}: ${spec.secret ? redact(why) : why}`);
    }
  }
  if (problems.length > 0) {
    throw new SluiceError('CONFIG_INVALID', `invalid configuration:\n  ${problems.join('\n  ')}`, {
      details: { problems },
    });
  }
  return out as Config;
}

/** The configuration with secrets redacted, for `sluice config` and start-up logs. */
export function describeConfig(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(configSpec) as [keyof Config, OptionSpec<unknown>][]) {
    const v = config[key];
    // A secret that is not a URL (an API key) is hidden whole.
    out[spec.env] = !spec.secret
      ? v
      : (typeof v === 'string' && v !== '' && !v.includes('//')) ||
          (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length > 0)
        ? '***'
        : JSON.parse(redact(JSON.stringify(v)));
  }
  return out;
}
