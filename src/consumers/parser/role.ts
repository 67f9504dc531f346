import type { RoleContext, RoleHandle } from '../../runtime/index.js';
import { ClaimCheck } from '../../producers/index.js';
import { Subjects, bodiesBucket, durables, filesBucket } from '../../topology/index.js';
import { DurableConsumer } from '../../runtime/index.js';
import { runtimeDeps } from '../../runtime/index.js';
import { reportFailedStage } from '../../runtime/index.js';
import { PipelinePublisher } from '../../runtime/index.js';
import { FileParser } from './file-parser.js';
import { parserHandler } from './parser.js';
import type { Config } from '../../config/index.js';
import type { RuntimeSettings } from '../../runtime/index.js';

/** The settings the parser role reads (app/start.ts passes them from Config). */
export type ParserSettings = RuntimeSettings &
  Pick<
    Config,
    'maxMessageBytes' | 'namespace' | 'parseMaxMemory' | 'parseMaxPages' | 'parseTimeout'
  >;

/**
 * The parser role: raw files (PDF, HTML, DOCX, text) into text for the chunker. It has
 * its own durable on the event log, with the retries and dead letters of every stage;
 * parsing runs in a worker thread with memory and time limits.
 */
export async function startParserRole(
  ctx: RoleContext,
  config: ParserSettings,
): Promise<RoleHandle> {
  const { nc } = ctx;
  const logger = ctx.logger.child({ module: 'parser' });
  const maxMemoryMb = Math.max(32, Math.floor(config.parseMaxMemory / (1024 * 1024)));
  const fileParser = new FileParser(
    {
      maxPages: config.parseMaxPages,
      maxUnpackedBytes: Math.floor(config.parseMaxMemory / 2),
      timeoutMs: config.parseTimeout,
      maxMemoryMb,
    },
    logger,
  );
  const subjects = new Subjects(config.namespace);
  const publisher = new PipelinePublisher({ nc, source: 'urn:sluice:parser' });
  const consumer = new DurableConsumer(
    {
      durable: durables.parser,
      stream: 'events',
      batchSize: 8,
      handler: parserHandler({
        subjects,
        publisher,
        files: new ClaimCheck(nc, filesBucket(config.namespace), 'FILE_REF_INVALID'),
        bodies: new ClaimCheck(nc, bodiesBucket(config.namespace)),
        parse: (bytes, mediaType) => fileParser.parse(bytes, mediaType),
        maxMessageBytes: config.maxMessageBytes,
      }),
      onDeadLetter: reportFailedStage(publisher, subjects, durables.parser),
    },
    runtimeDeps(config, nc, logger, publisher, ctx.breakers),
  );
  await consumer.start();
  logger.info({ maxPages: config.parseMaxPages, maxMemoryMb }, 'parser started');
  return {
    name: 'parser',
    stop: async () => {
      await consumer.stop();
      await fileParser.close();
    },
  };
}
