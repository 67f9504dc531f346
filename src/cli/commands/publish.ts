import { hostname } from 'node:os';
import { Command, Option } from 'commander';
import type { Config } from '../../config/index.js';
import { createLogger } from '../../logger.js';
import { connectNats } from '../../nats/index.js';
import {
  Producer,
  countInputs,
  formatReport,
  readInputs,
  runPublish,
} from '../../producers/index.js';

export function publishCommand(config: () => Config): Command {
  return new Command('publish')
    .description(
      'publish events or documents: NDJSON/JSON CloudEvents (.ndjson, .jsonl, .json, or - for stdin), ' +
        'or plain files (markdown, text) whose id is their path',
    )
    .argument('<paths...>', 'files, directories, or - for NDJSON on stdin')
    .option('-t, --tenant <tenant>', 'tenant of plain-file documents')
    .option('-c, --collection <collection>', 'collection of plain-file documents')
    .option(
      '--source <uri>',
      'CloudEvents source of plain-file events',
      `urn:sluice:cli:${hostname()}`,
    )
    .addOption(
      new Option('--max-in-flight <n>', 'publishes awaiting their ack at once')
        .default(256)
        .argParser(Number),
    )
    .option('--json', 'print the report as JSON on stdout (no progress bar)')
    .action(
      async (
        paths: string[],
        opts: {
          tenant?: string;
          collection?: string;
          source: string;
          maxInFlight: number;
          json?: boolean;
        },
      ) => {
        const cfg = config();
        const logger = createLogger({ level: cfg.logLevel === 'info' ? 'warn' : cfg.logLevel });
        const nc = await connectNats({ servers: cfg.natsUrl, name: 'sluice-publish', logger });
        try {
          const producer = new Producer({
            nc,
            namespace: cfg.namespace,
            logger,
            claimCheckBytes: cfg.claimCheckBytes,
            maxMessageBytes: cfg.maxMessageBytes,
            maxDocumentBytes: cfg.maxDocumentBytes,
            source: opts.source,
          });
          const progress = !opts.json && process.stderr.isTTY ? process.stderr : undefined;
          const report = await runPublish({
            producer,
            inputs: readInputs(paths, {
              ...(opts.tenant === undefined ? {} : { tenant: opts.tenant }),
              ...(opts.collection === undefined ? {} : { collection: opts.collection }),
              wrap: (data) => producer.event('sluice.document.upserted.v1', data as never),
            }),
            ...(progress ? { progress, total: await countInputs(paths) } : {}),
            maxInFlight: opts.maxInFlight,
          });
          if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
          else process.stderr.write(formatReport(report));
          if (report.rejected + report.failed > 0) process.exitCode = 1;
        } finally {
          await nc.drain().catch(() => nc.close());
        }
      },
    );
}
