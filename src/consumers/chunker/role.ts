import type { RoleContext, RoleHandle } from '../../runtime/index.js';
import { SluiceError } from '../../errors/index.js';
import { ensureModel, loadTokenizer } from '../../models/index.js';
import { ClaimCheck } from '../../producers/index.js';
import { Subjects, bodiesBucket, durables } from '../../topology/index.js';
import { DurableConsumer } from '../../runtime/index.js';
import { runtimeDeps } from '../../runtime/index.js';
import { reportFailedStage } from '../../runtime/index.js';
import { PipelinePublisher } from '../../runtime/index.js';
import { chunkerHandler, parsedChunkerHandler, type ChunkerOptions } from './chunker.js';
import { Splitter } from './splitter.js';
import type { Config } from '../../config/index.js';
import type { RuntimeSettings } from '../../runtime/index.js';

/** The settings the chunker role reads (app/start.ts passes them from Config). */
export type ChunkerSettings = RuntimeSettings &
  Pick<
    Config,
    | 'allowRemoteModels'
    | 'chunkMaxTokens'
    | 'chunkOverlapTokens'
    | 'maxMessageBytes'
    | 'modelDtype'
    | 'models'
    | 'modelsDir'
    | 'namespace'
  >;

/**
 * The chunker role. It splits with the tokenizer of the first configured model, within
 * the smallest token limit of all configured models, so every embedder can read every
 * chunk whole.
 */
export async function startChunkerRole(
  ctx: RoleContext,
  config: ChunkerSettings,
): Promise<RoleHandle> {
  const { nc } = ctx;
  const logger = ctx.logger.child({ module: 'chunker' });
  const specs = await Promise.all(
    config.models.map((m) =>
      ensureModel(config.modelsDir, m, config.modelDtype, config.allowRemoteModels),
    ),
  );
  const tokenizer = await loadTokenizer(specs[0]!);
  const special = tokenizer.encode('').length;
  const limit = Math.min(...specs.map((s) => s.maxTokens)) - special;
  const maxTokens = config.chunkMaxTokens || limit;
  if (maxTokens > limit) {
    throw new SluiceError(
      'CONFIG_INVALID',
      `SLUICE_CHUNK_MAX_TOKENS is ${maxTokens}, but the models read at most ${limit} tokens besides their special tokens`,
    );
  }
  // Splitting runs in a worker thread: a long text never holds up this event loop.
  const splitter = new Splitter(
    {
      tokenizerDir: specs[0]!.dir,
      maxTokens,
      overlapTokens: Math.min(config.chunkOverlapTokens, Math.floor(maxTokens / 2)),
    },
    logger,
  );
  await splitter.start();
  const subjects = new Subjects(config.namespace);
  const publisher = new PipelinePublisher({ nc, source: 'urn:sluice:chunker' });
  const handlerOptions: ChunkerOptions = {
    subjects,
    publisher,
    claimCheck: new ClaimCheck(nc, bodiesBucket(config.namespace)),
    split: (text, mimeType) => splitter.split(text, mimeType),
    maxMessageBytes: config.maxMessageBytes,
    logger,
  };
  const deps = runtimeDeps(config, nc, logger, publisher, ctx.breakers);
  // Two durables: text events from the log, and files the parser turned into text.
  const consumers = [
    new DurableConsumer(
      {
        durable: durables.chunker,
        stream: 'events',
        batchSize: 16,
        handler: chunkerHandler(handlerOptions),
        onDeadLetter: reportFailedStage(publisher, subjects, durables.chunker),
      },
      deps,
    ),
    new DurableConsumer(
      {
        durable: durables.chunkerParsed,
        stream: 'parsed',
        batchSize: 4,
        handler: parsedChunkerHandler(handlerOptions),
        onDeadLetter: reportFailedStage(publisher, subjects, durables.chunkerParsed),
      },
      deps,
    ),
  ];
  for (const c of consumers) await c.start();
  logger.info(
    { tokenizer: specs[0]!.name, maxTokens, overlap: config.chunkOverlapTokens },
    'chunker started',
  );
  return {
    name: 'chunker',
    stop: async () => {
      for (const c of consumers) await c.stop();
      await splitter.close();
    },
  };
}
