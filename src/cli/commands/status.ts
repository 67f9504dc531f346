import { jetstreamManager } from '@nats-io/jetstream';
import { Command } from 'commander';
import type { Config } from '../../config/index.js';
import { createLogger } from '../../logger.js';
import { connectNats } from '../../nats/index.js';
import { PipelineStatusReader, type DurableStatus } from '../../pipeline-status/index.js';

/** Prints rows as aligned columns under a header. */
function columns(head: string[], cells: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  return [head, ...cells]
    .map(
      (line) =>
        `${line
          .map((c, i) => c.padEnd(widths[i]!))
          .join('  ')
          .trimEnd()}\n`,
    )
    .join('');
}

const ago = (seconds: number): string =>
  seconds < 120
    ? `${Math.round(seconds)}s`
    : seconds < 7200
      ? `${Math.round(seconds / 60)}m`
      : `${Math.round(seconds / 3600)}h`;

/**
 * `sluice status`: every declared durable's backlog, in-flight and redelivered counts,
 * its rate over a short window and the time to drain at that rate, and its dead letters;
 * then every running process (from the heartbeats they write), its roles and the
 * breakers it has open.
 */
export function statusCommand(config: () => Config): Command {
  return new Command('status')
    .description(
      "every durable's backlog, in flight, redelivered, rate, time to drain and dead letters; every running process, its roles and open breakers",
    )
    .option('--sample <seconds>', 'window over which rates are measured', '2')
    .option('--json', 'print JSON')
    .action(async (opts: { sample: string; json?: boolean }) => {
      const cfg = config();
      const logger = createLogger({ level: 'warn' });
      const nc = await connectNats({ servers: cfg.natsUrl, name: 'sluice-status', logger });
      try {
        const reader = new PipelineStatusReader(nc, await jetstreamManager(nc), cfg);
        const sampleMs = Math.max(0, Number(opts.sample) * 1000);
        const first = await reader.sample();
        if (sampleMs > 0) await new Promise((r) => setTimeout(r, sampleMs));
        const { durables: rows, processes } =
          sampleMs > 0 ? await reader.read(await reader.sample(), first) : await reader.read(first);
        const now = Date.now();
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ durables: rows, processes }, null, 2)}\n`);
          return;
        }
        const head = [
          'DURABLE',
          'STREAM',
          'PENDING',
          'ACK-PENDING',
          'REDELIVERED',
          'RATE/S',
          'ETA S',
          'DLQ',
        ];
        const n = (r: DurableStatus, v: number): string =>
          r.state === 'missing' ? '—' : String(v);
        const cells = rows.map((r) => [
          r.durable,
          r.stream,
          n(r, r.pending),
          n(r, r.ackPending),
          n(r, r.redelivered),
          r.rate === null ? '—' : String(r.rate),
          r.etaSeconds === null ? '—' : String(r.etaSeconds),
          r.state === 'missing' ? 'missing' : String(r.deadLetters),
        ]);
        process.stdout.write(columns(head, cells));
        process.stdout.write('\n');
        if (processes.length === 0) {
          process.stdout.write('no running processes (none has written a heartbeat lately)\n');
          return;
        }
        process.stdout.write(
          columns(
            ['PROCESS', 'ROLES', 'UP', 'LAST BEAT', 'RSS MB', 'BREAKERS OPEN'],
            processes.map((p) => [
              p.id,
              p.roles.join(','),
              ago((now - Date.parse(p.startedAt)) / 1000),
              `${p.lastBeatSeconds}s ago`,
              String(Math.round(p.rssBytes / 1024 / 1024)),
              p.openBreakers.length === 0
                ? 'none'
                : p.openBreakers.map((b) => `${b.dependency} since ${b.since}`).join(', '),
            ]),
          ),
        );
      } finally {
        await nc.close();
      }
    });
}
