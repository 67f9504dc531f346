import { basename, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { SingleBar } from 'cli-progress';
import type { Config } from '../../config/index.js';
import { SluiceError } from '../../errors/index.js';
import { ApiClient, type Mode } from '../../eval/index.js';
import { evaluate, type EvalReport, type Progress } from '../../eval/index.js';

interface Opts {
  url?: string;
  key?: string;
  collection?: string;
  tenant?: string;
  split: string;
  modes: string;
  model?: string;
  k: number;
  limit?: number;
  concurrency: number;
  ingest?: boolean;
  wait: number;
  calibrate?: boolean;
  hnswRecall: boolean;
  json?: boolean;
}

/** A bar on a terminal; a line per stage elsewhere (CI logs); nothing with --json. */
function progress(enabled: boolean): Progress {
  let bar: SingleBar | undefined;
  let label = '';
  return {
    start(l, total) {
      label = l;
      if (!enabled) return;
      if (process.stderr.isTTY) {
        bar = new SingleBar({
          format: `${l.padEnd(36)} [{bar}] {value}/{total} {eta_formatted}`,
          stream: process.stderr,
          hideCursor: true,
        });
        bar.start(total, 0);
      } else process.stderr.write(`${l} (${total})…\n`);
    },
    tick: (n = 1) => bar?.increment(n),
    update: (done) => bar?.update(done),
    stop() {
      bar?.stop();
      bar = undefined;
      if (enabled && !process.stderr.isTTY) process.stderr.write(`${label}: done\n`);
    },
  };
}

const f3 = (x: number): string => x.toFixed(3);

export function formatEval(r: EvalReport): string {
  const lines = [
    `${r.dataset} → collection '${r.collection}', split ${r.split}, ${r.queries} queries`,
  ];
  if (r.ingested)
    lines.push(
      `ingested ${r.ingested.documents} documents, indexed in ${r.ingested.seconds.toFixed(1)} s`,
    );
  if (r.calibration)
    lines.push(
      `calibrated on ${r.calibration.split}: vector weight ${r.calibration.vectorWeight} ` +
        `(nDCG@10 ${f3(r.calibration.score)}; weight 0: ${f3(r.calibration.grid[0]!.score)}, ` +
        `weight 1: ${f3(r.calibration.grid.at(-1)!.score)}), stored for the collection`,
    );
  const head = [
    'mode',
    'nDCG@10',
    'recall@100',
    'MRR@10',
    'no result',
    'p50 ms',
    'p99 ms',
    'weight',
  ];
  const rows = r.modes.map((m) => [
    m.mode,
    f3(m.ndcg10),
    f3(m.recall100),
    f3(m.mrr10),
    String(m.empty),
    m.p50Ms.toFixed(1),
    m.p99Ms.toFixed(1),
    m.vectorWeight === undefined ? '' : `${m.vectorWeight} (${m.weightSource})`,
  ]);
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const fmt = (row: string[]): string =>
    `| ${row.map((c, i) => c.padEnd(width[i]!)).join(' | ')} |`;
  lines.push('', fmt(head), `|${width.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(fmt));
  if (r.hnsw)
    lines.push(
      '',
      `HNSW recall@10 against an exact scan: ${f3(r.hnsw.recall10)} over ${r.hnsw.queries} queries`,
    );
  return `${lines.join('\n')}\n`;
}

export function evalCommand(config: () => Config): Command {
  return new Command('eval')
    .description(
      'evaluate search on a BEIR-format dataset (corpus.jsonl, queries.jsonl, qrels/<split>.tsv) ' +
        'through the HTTP API: nDCG@10, recall@100, MRR@10 and latency per mode',
    )
    .argument('<dataset>', 'the dataset folder')
    .option('--url <url>', 'API base URL (default: SLUICE_HTTP_HOST:SLUICE_HTTP_PORT)')
    .option('--key <key>', 'API key (default: $SLUICE_API_KEY)')
    .option('-c, --collection <name>', 'collection to search (default: the folder name)')
    .option(
      '-t, --tenant <tenant>',
      'tenant of ingested documents (default: SLUICE_DEFAULT_TENANT)',
    )
    .option('--split <name>', 'qrels split to evaluate on', 'test')
    .option('--modes <list>', 'search modes, comma-separated', 'vector,keyword,hybrid')
    .option('--model <name>', 'served model (default: the collection’s active one)')
    .addOption(
      new Option('-k <n>', 'chunks per query (at most 100)').default(100).argParser(Number),
    )
    .addOption(new Option('--limit <n>', 'only the first n queries').argParser(Number))
    .addOption(new Option('--concurrency <n>', 'requests at once').default(4).argParser(Number))
    .option('--ingest', 'publish the corpus into the collection first and wait until it is indexed')
    .addOption(
      new Option('--wait <seconds>', 'how long --ingest waits for indexing')
        .default(3600)
        .argParser(Number),
    )
    .option(
      '--calibrate',
      'choose the hybrid fusion weight on this split and store it for the collection (use --split train; never tune on test)',
    )
    .option('--no-hnsw-recall', 'skip comparing HNSW results with an exact scan')
    .option('--json', 'print the report as JSON on stdout (no progress)')
    .action(async (dataset: string, opts: Opts) => {
      const cfg = config();
      const modes = opts.modes.split(',').map((m) => m.trim());
      for (const m of modes)
        if (!['vector', 'keyword', 'hybrid'].includes(m))
          throw new SluiceError(
            'REQUEST_INVALID',
            `--modes: '${m}' is not vector, keyword or hybrid`,
          );
      if (!(opts.k >= 1 && opts.k <= 100))
        throw new SluiceError('REQUEST_INVALID', '-k must be between 1 and 100');
      const dir = resolve(dataset);
      const host = cfg.httpHost === '0.0.0.0' ? '127.0.0.1' : cfg.httpHost;
      const report = await evaluate({
        dir,
        client: new ApiClient(
          opts.url ?? `http://${host.includes(':') ? `[${host}]` : host}:${cfg.httpPort}`,
          opts.key ?? (cfg.apiKey || undefined),
        ),
        collection: opts.collection ?? basename(dir),
        tenant: opts.tenant ?? cfg.defaultTenant,
        split: opts.split,
        modes: modes as Mode[],
        ...(opts.model ? { model: opts.model } : {}),
        k: opts.k,
        ...(opts.limit === undefined ? {} : { limit: opts.limit }),
        concurrency: opts.concurrency,
        ingest: opts.ingest ?? false,
        waitSeconds: opts.wait,
        calibrate: opts.calibrate ?? false,
        hnswRecall: opts.hnswRecall,
        progress: progress(!opts.json),
      });
      if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else process.stdout.write(formatEval(report));
    });
}
