import { jetstreamManager } from '@nats-io/jetstream';
import { Command } from 'commander';
import type { Config } from '../../config/index.js';
import { DeadLetters } from '../../dead-letters/index.js';
import { createLogger } from '../../logger.js';
import { connectNats } from '../../nats/index.js';
import { PipelinePublisher } from '../../runtime/publisher.js';
import { declareTopology } from '../../topology/index.js';
import { readHeartbeats, type Heartbeat } from '../../app/heartbeat.js';

export interface DurableStatus {
  durable: string;
  stream: string;
  /** Messages not delivered yet (the backlog). */
  pending: number;
  /** Delivered and not acknowledged yet. */
  ackPending: number;
  /** Delivered more than once and not acknowledged yet. */
  redelivered: number;
  /** Messages the durable settled per second, over the sampling window. */
  rate: number | null;
  /** Seconds to drain the backlog at that rate. */
  etaSeconds: number | null;
  deadLetters: number;
  state: 'ok' | 'missing';
}

export interface ProcessStatus extends Heartbeat {
  /** Seconds since its last heartbeat. */
  lastBeatSeconds: number;
}

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
        const jsm = await jetstreamManager(nc);
        const declared = declareTopology(cfg).consumers;
        const read = async () =>
          Promise.all(
            declared.map(async (c) =>
              jsm.consumers.info(c.stream, c.config.durable_name).catch(() => undefined),
            ),
          );
        const sampleMs = Math.max(0, Number(opts.sample) * 1000);
        const first = await read();
        const t0 = Date.now();
        if (sampleMs > 0) await new Promise((r) => setTimeout(r, sampleMs));
        const second = sampleMs > 0 ? await read() : first;
        const seconds = (Date.now() - t0) / 1000;
        const depth = await new DeadLetters(
          nc,
          cfg.namespace,
          new PipelinePublisher({ nc, source: 'urn:sluice:status' }),
        )
          .depth()
          .catch((): Record<string, number> => ({}));
        const rows: DurableStatus[] = declared.map((c, i) => {
          const a = first[i];
          const b = second[i];
          const durable = c.config.durable_name;
          if (!b)
            return {
              durable,
              stream: c.stream,
              pending: 0,
              ackPending: 0,
              redelivered: 0,
              rate: null,
              etaSeconds: null,
              deadLetters: depth[durable] ?? 0,
              state: 'missing',
            };
          const rate =
            a && seconds > 0
              ? Math.max(0, b.ack_floor.stream_seq - a.ack_floor.stream_seq) / seconds
              : null;
          return {
            durable,
            stream: c.stream,
            pending: b.num_pending,
            ackPending: b.num_ack_pending,
            redelivered: b.num_redelivered,
            rate: rate === null ? null : Math.round(rate * 10) / 10,
            etaSeconds:
              b.num_pending + b.num_ack_pending === 0
                ? 0
                : rate
                  ? Math.round((b.num_pending + b.num_ack_pending) / rate)
                  : null,
            deadLetters: depth[durable] ?? 0,
            state: 'ok',
          };
        });
        const now = Date.now();
        const processes: ProcessStatus[] = (await readHeartbeats(nc, cfg.namespace)).map((h) => ({
          ...h,
          lastBeatSeconds: Math.max(0, Math.round((now - Date.parse(h.at)) / 100) / 10),
        }));
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
