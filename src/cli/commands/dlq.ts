import { Command } from 'commander';
import type { Config } from '../../config/index.js';
import {
  DeadLetters,
  type DeadLetterSummary,
  type RedriveProgress,
} from '../../dead-letters/index.js';
import { PipelinePublisher } from '../../runtime/index.js';
import { SluiceError } from '../../errors/index.js';
import { createLogger } from '../../logger.js';
import { connectNats } from '../../nats/index.js';
import { printable } from '../printable.js';

async function withLetters<T>(config: () => Config, f: (d: DeadLetters) => Promise<T>): Promise<T> {
  const cfg = config();
  const nc = await connectNats({
    servers: cfg.natsUrl,
    name: 'sluice-dlq',
    logger: createLogger({ level: 'warn' }),
  });
  try {
    return await f(
      new DeadLetters(nc, cfg.namespace, new PipelinePublisher({ nc, source: 'urn:sluice:cli' })),
    );
  } finally {
    await nc.close();
  }
}

function table(items: DeadLetterSummary[]): string {
  if (items.length === 0) return 'no dead letters\n';
  const rows = items.map((i) => [
    String(i.id),
    i.consumer,
    i.code,
    String(i.attempts),
    i.failedAt.slice(0, 19),
    i.document
      ? `${i.document.tenant}/${i.document.collection}/${printable(i.document.documentId, 64)}`
      : i.subject,
    i.message.replace(/\s+/g, ' ').slice(0, 80),
  ]);
  const head = ['ID', 'CONSUMER', 'CODE', 'ATTEMPTS', 'FAILED AT', 'DOCUMENT', 'MESSAGE'];
  const w = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  return `${[head, ...rows].map((r) => r.map((v, c) => (c === r.length - 1 ? v : v.padEnd(w[c]!))).join('  ')).join('\n')}\n`;
}

const ids = (v: string[]): number[] =>
  v.map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1)
      throw new SluiceError('REQUEST_INVALID', `'${s}' is not a dead letter id`);
    return n;
  });

export function dlqCommand(config: () => Config): Command {
  const dlq = new Command('dlq').description('inspect and redrive dead letters');
  dlq
    .command('ls')
    .description('list dead letters (oldest first)')
    .option('--consumer <durable>', 'only this consumer’s (chunker, embedder-<model>, indexer, …)')
    .option('--after <id>', 'only letters after this id (paging)', Number)
    .option('--limit <n>', 'at most this many', Number, 100)
    .option('--json', 'print JSON')
    .action(async (o: { consumer?: string; after?: number; limit: number; json?: boolean }) => {
      const page = await withLetters(config, (d) =>
        d.list({
          limit: o.limit,
          ...(o.consumer === undefined ? {} : { consumer: o.consumer }),
          ...(o.after === undefined ? {} : { after: o.after }),
        }),
      );
      process.stdout.write(o.json ? `${JSON.stringify(page, null, 2)}\n` : table(page.items));
      if (!o.json && page.next !== undefined)
        process.stdout.write(`more: sluice dlq ls --after ${page.next}\n`);
    });
  dlq
    .command('show')
    .description('one dead letter: error, attempts history, headers and payload')
    .argument('<id>', 'its id (from sluice dlq ls)')
    .action(async (id: string) => {
      const [n] = ids([id]);
      const letter = await withLetters(config, (d) => d.show(n!));
      if (!letter) throw new SluiceError('NOT_FOUND', `no dead letter ${id}`);
      process.stdout.write(`${JSON.stringify(letter, null, 2)}\n`);
    });
  dlq
    .command('redrive')
    .description(
      'send dead letters back to their consumer with fresh attempts (after fixing the cause)',
    )
    .argument('[ids...]', 'ids to redrive')
    .option('--consumer <durable>', 'every letter of this consumer')
    .option('--all', 'every dead letter')
    .option('--json', 'print JSON')
    .action(async (list: string[], o: { consumer?: string; all?: boolean; json?: boolean }) => {
      // Long redrives say how far they are, on a terminal.
      const onProgress =
        o.json || !process.stderr.isTTY
          ? undefined
          : (p: RedriveProgress) => {
              process.stderr.write(
                `\rredriven ${p.redriven}, not ${p.failed}, examined ${p.scanned}`,
              );
            };
      const result = await withLetters(config, (d) =>
        d.redrive(
          {
            ids: ids(list),
            ...(o.consumer === undefined ? {} : { consumer: o.consumer }),
            ...(o.all ? { all: true } : {}),
          },
          onProgress ? { onProgress } : {},
        ),
      );
      if (onProgress) process.stderr.write('\n');
      if (o.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      else {
        process.stdout.write(
          `redriven: ${result.redriven.length}${result.redriven.length ? ` (${result.redriven.join(', ')})` : ''}\n`,
        );
        for (const f of result.failed) process.stdout.write(`not redriven ${f.id}: ${f.reason}\n`);
      }
      if (result.failed.length > 0) process.exitCode = 1;
    });
  return dlq;
}
