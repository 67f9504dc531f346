import { Command, Option } from 'commander';
import { SingleBar } from 'cli-progress';
import type { Config } from '../../config/index.js';
import {
  createDatabase,
  dbUnavailable,
  isTransientDbError,
  runMigrations,
} from '../../db/index.js';
import { dropPrevious } from '../../db/index.js';
import { SluiceError } from '../../errors/index.js';
import { createLogger } from '../../logger.js';
import { connectNats } from '../../nats/index.js';
import { Replayer, replayables, type ReplayProgress, type Replayable } from '../../replay/index.js';

interface Opts {
  fromSeq?: number;
  since?: string;
  resume?: boolean;
  replacePrevious?: boolean;
  status?: boolean;
  cancel?: boolean;
  abandon?: boolean;
  rollback?: boolean;
  dropPrevious?: boolean;
  json?: boolean;
}

const line = (p: ReplayProgress): string =>
  `${p.projection}: ${p.status} ${(p.fraction * 100).toFixed(1)}% at ${p.eventsPerSecond} events/s` +
  `${p.etaSeconds === null ? '' : `, ETA ${p.etaSeconds} s`} — ` +
  Object.entries(p.streams)
    .map(
      ([s, x]) =>
        `${s} ${Math.max(0, Math.min(x.applied, x.stop) - x.start + 1)}/${Math.max(0, x.stop - x.start + 1)}`,
    )
    .join(', ');

export function replayCommand(config: () => Config): Command {
  return new Command('replay')
    .description(
      'rebuild a projection from its streams into shadow tables, then swap them in (the live ones keep serving meanwhile)',
    )
    .argument(
      '<projection>',
      `one of ${replayables.join(', ')} (index: the vector index, from the vectors stream, without embedding)`,
    )
    .addOption(
      new Option(
        '--from-seq <n>',
        'start at this sequence of its first stream (default: the beginning)',
      ).argParser(Number),
    )
    .option('--since <time>', 'start at this time (ISO 8601)')
    .option('--resume', 'continue an interrupted or cancelled replay')
    .option('--replace-previous', 'drop the tables an earlier replay kept when swapping')
    .option('--status', 'show the latest replay and exit')
    .option('--cancel', 'stop a running replay (its work is kept for --resume)')
    .option('--abandon', 'stop and discard an unfinished replay')
    .option('--rollback', 'swap the tables the last replay replaced back in (again to undo)')
    .option('--drop-previous', 'drop the tables the last replay replaced')
    .option('--json', 'print JSON')
    .action(async (projection: string, o: Opts) => {
      if (!(replayables as readonly string[]).includes(projection)) {
        throw new SluiceError(
          'REQUEST_INVALID',
          `unknown projection '${projection}'; one of ${replayables.join(', ')}`,
        );
      }
      const name = projection as Replayable;
      if (o.fromSeq !== undefined && (!Number.isInteger(o.fromSeq) || o.fromSeq < 1))
        throw new SluiceError('REQUEST_INVALID', '--from-seq must be a positive integer');
      const since = o.since === undefined ? undefined : new Date(o.since);
      if (since !== undefined && Number.isNaN(since.getTime()))
        throw new SluiceError('REQUEST_INVALID', `--since '${o.since}' is not a time`);
      const cfg = config();
      const logger = createLogger({ level: cfg.logLevel === 'info' ? 'warn' : cfg.logLevel });
      const db = createDatabase({ url: cfg.databaseUrl, applicationName: 'sluice-replay' });
      const nc = await connectNats({ servers: cfg.natsUrl, name: 'sluice-replay', logger });
      try {
        await runMigrations(db).catch((err: unknown) => {
          throw isTransientDbError(err) ? dbUnavailable(err, cfg.databaseUrl) : err;
        });
        const replayer = new Replayer({ nc, sql: db.sql, config: cfg, logger });
        const print = (x: unknown): void =>
          void process.stdout.write(
            `${o.json ? JSON.stringify(x) : typeof x === 'string' ? x : JSON.stringify(x, null, 2)}\n`,
          );
        if (o.status) {
          const p = await replayer.progress(name);
          print(p ? (o.json ? p : line(p)) : `no replay of ${name} yet`);
        } else if (o.cancel) {
          print(
            (await replayer.cancel(name))
              ? `cancelling the replay of ${name}`
              : `no running replay of ${name}`,
          );
        } else if (o.abandon) {
          await replayer.cancel(name);
          await replayer.abandon(name);
          print(`abandoned the replay of ${name}`);
        } else if (o.rollback) {
          const { reapplied } = await replayer.rollback(name);
          print(
            `${name}: the previous tables are live again, with the ${reapplied} events since the swap applied (--rollback once more to undo)`,
          );
        } else if (o.dropPrevious) {
          await dropPrevious(db.sql, name);
          print(`${name}: previous tables dropped`);
        } else {
          const bar =
            !o.json && process.stderr.isTTY
              ? new SingleBar({
                  format: ' replay [{bar}] {percentage}% | {rate} events/s | ETA {eta_s} s',
                  stream: process.stderr,
                })
              : undefined;
          bar?.start(100, 0, { rate: 0 });
          let last = 0;
          const result = await replayer.run(name, {
            ...(o.fromSeq === undefined ? {} : { fromSeq: o.fromSeq }),
            ...(since === undefined ? {} : { since }),
            resume: o.resume ?? false,
            replacePrevious: o.replacePrevious ?? false,
            onProgress: (p) => {
              bar?.update(Math.round(p.fraction * 100), { rate: p.eventsPerSecond });
              if (!bar && Date.now() - last > 2000) {
                last = Date.now();
                process.stderr.write(`${line(p)}\n`);
              }
            },
          });
          bar?.stop();
          print(
            o.json
              ? result
              : `${name}: ${result.events} events replayed in ${result.seconds.toFixed(1)} s (${result.eventsPerSecond}/s); the new tables are live`,
          );
        }
      } finally {
        await nc.close();
        await db.close();
      }
    });
}
