import { jetstreamManager } from '@nats-io/jetstream';
import { Command } from 'commander';
import type { Config } from '../../config/index.js';
import { DeadLetters } from '../../dead-letters/index.js';
import { createLogger } from '../../logger.js';
import { connectNats } from '../../nats/index.js';
import { PipelinePublisher } from '../../runtime/publisher.js';
import { declareTopology } from '../../topology/index.js';

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

/**
 * `sluice status`: every declared durable's backlog, in-flight and redelivered counts,
 * its rate over a short window and the time to drain at that rate, and its dead letters.
 */
export function statusCommand(config: () => Config): Command {
  return new Command('status')
    .description(
      "every durable's backlog, in flight, redelivered, rate and time to drain, and its dead letters",
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
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
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
        const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
        for (const line of [head, ...cells])
          process.stdout.write(
            `${line
              .map((c, i) => c.padEnd(widths[i]!))
              .join('  ')
              .trimEnd()}\n`,
          );
      } finally {
        await nc.close();
      }
    });
}
