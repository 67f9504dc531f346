import { hostname } from 'node:os';
import { startConfiguredTracing } from '../../app/index.js';
import { Command, Option } from 'commander';
import type { Config } from '../../config/index.js';
import { SluiceError } from '../../errors/index.js';
import { createLogger } from '../../logger.js';
import { connectNats } from '../../nats/index.js';
import { printable } from '../printable.js';
import {
  Producer,
  countInputs,
  formatReport,
  readInputs,
  runPublish,
  waitSearchable,
} from '../../producers/index.js';

export function publishCommand(config: () => Config): Command {
  return new Command('publish')
    .description(
      'publish events or documents: NDJSON/JSON CloudEvents (.ndjson, .jsonl, .json, or - for stdin), ' +
        'or documents whose id is their path: markdown and text inline, PDF, HTML and DOCX as raw files ' +
        'that the parser role reads (format by extension and content sniffing)',
    )
    .argument('<paths...>', 'files, directories, or - for NDJSON on stdin')
    .option('-t, --tenant <tenant>', 'tenant of documents (files that are not events)')
    .option('-c, --collection <collection>', 'collection of documents (files that are not events)')
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
    .option(
      '--wait [seconds]',
      'then wait until every published document is searchable, through the HTTP API (default 600 s)',
    )
    .option('--url <url>', 'API base URL for --wait (default: SLUICE_HTTP_HOST:SLUICE_HTTP_PORT)')
    .option('--key <key>', 'API key for --wait (default: $SLUICE_API_KEY)')
    .option('--json', 'print the report as JSON on stdout (no progress bar)')
    .action(
      async (
        paths: string[],
        opts: {
          tenant?: string;
          collection?: string;
          source: string;
          maxInFlight: number;
          wait?: boolean | string;
          url?: string;
          key?: string;
          json?: boolean;
        },
      ) => {
        const cfg = config();
        const logger = createLogger({ level: cfg.logLevel === 'info' ? 'warn' : cfg.logLevel });
        const nc = await connectNats({ servers: cfg.natsUrl, name: 'sluice-publish', logger });
        const tracing = await startConfiguredTracing(cfg, ['publish']);
        try {
          const producer = new Producer({
            nc,
            namespace: cfg.namespace,
            logger,
            claimCheckBytes: cfg.claimCheckBytes,
            maxMessageBytes: cfg.maxMessageBytes,
            maxDocumentBytes: cfg.maxDocumentBytes,
            maxFileBytes: cfg.fileMaxBytes,
            source: opts.source,
          });
          const progress = !opts.json && process.stderr.isTTY ? process.stderr : undefined;
          const report = await runPublish({
            producer,
            inputs: readInputs(paths, {
              ...(opts.tenant === undefined ? {} : { tenant: opts.tenant }),
              ...(opts.collection === undefined ? {} : { collection: opts.collection }),
              wrap: (data, type) =>
                producer.event(type ?? 'sluice.document.upserted.v1', data as never),
              putFile: (doc, bytes, o) => producer.putFile(doc, bytes, o),
            }),
            ...(progress ? { progress, total: await countInputs(paths) } : {}),
            maxInFlight: opts.maxInFlight,
            keepVersions: opts.wait !== undefined,
          });
          const { versions, ...summary } = report;
          if (!opts.json) process.stderr.write(formatReport(report));
          if (report.rejected + report.failed > 0) process.exitCode = 1;
          if (opts.wait === undefined) {
            if (opts.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
            return;
          }
          const key = opts.key ?? cfg.apiKey;
          if (!key)
            throw new SluiceError(
              'CONFIG_INVALID',
              '--wait needs an API key: --key or SLUICE_API_KEY',
            );
          const host = cfg.httpHost === '0.0.0.0' ? '127.0.0.1' : cfg.httpHost;
          const waited = await waitSearchable({
            url: (opts.url ?? `http://${host}:${cfg.httpPort}`).replace(/\/$/, ''),
            key,
            versions: versions ?? [],
            timeoutMs: (opts.wait === true ? 600 : Number(opts.wait)) * 1000,
            ...(progress ? { progress } : {}),
          });
          if (opts.json)
            process.stdout.write(`${JSON.stringify({ ...summary, wait: waited }, null, 2)}\n`);
          else {
            for (const f of waited.failed)
              process.stderr.write(
                `failed ${f.collection}/${printable(f.documentId)}@${f.version}: [${f.code}] ${f.message}\n`,
              );
            for (const p of waited.pending)
              process.stderr.write(
                `not searchable in time ${p.collection}/${printable(p.documentId)}@${p.version}: ${p.status}\n`,
              );
            process.stderr.write(
              `searchable: ${waited.searchable} of ${(versions ?? []).length} document(s) after ${(waited.elapsedMs / 1000).toFixed(1)} s; ` +
                `${waited.failed.length} failed, ${waited.pending.length} not yet\n`,
            );
          }
          if (waited.failed.length + waited.pending.length > 0) process.exitCode = 1;
        } finally {
          await nc.drain().catch(() => nc.close());
          await tracing?.shutdown().catch(() => {});
        }
      },
    );
}
