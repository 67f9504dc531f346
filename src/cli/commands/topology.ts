import { jetstreamManager } from '@nats-io/jetstream';
import { Command } from 'commander';
import type { Config } from '../../config/index.js';
import { createLogger } from '../../logger.js';
import { connectNats } from '../../nats/index.js';
import {
  applyTopology,
  declareTopology,
  inspectTopology,
  type TopologyRow,
} from '../../topology/index.js';

function table(rows: TopologyRow[]): string {
  const w = Math.max(...rows.map((r) => r.name.length), 4);
  const out = [`${'KIND'.padEnd(9)} ${'NAME'.padEnd(w)} STATE`];
  for (const r of rows) {
    out.push(`${r.kind.padEnd(9)} ${r.name.padEnd(w)} ${r.state}`);
    for (const d of r.diffs) out.push(`${''.padEnd(9)} ${''.padEnd(w)}   ${d}`);
  }
  return `${out.join('\n')}\n`;
}

export function topologyCommand(config: () => Config): Command {
  return new Command('topology')
    .description('show the declared streams, consumers and buckets against what exists on NATS')
    .option(
      '--apply',
      'create what is missing and update what differs (sluice start does this too)',
    )
    .option('--json', 'print JSON')
    .action(async (opts: { apply?: boolean; json?: boolean }) => {
      const cfg = config();
      const logger = createLogger({ level: 'warn' });
      const nc = await connectNats({ servers: cfg.natsUrl, name: 'sluice-topology', logger });
      try {
        const jsm = await jetstreamManager(nc);
        const declared = declareTopology(cfg);
        const rows = opts.apply
          ? await applyTopology(jsm, nc, declared)
          : await inspectTopology(jsm, declared);
        process.stdout.write(opts.json ? `${JSON.stringify(rows, null, 2)}\n` : table(rows));
        if (!opts.apply && rows.some((r) => r.state === 'missing' || r.state === 'differs'))
          process.exitCode = 1;
      } finally {
        await nc.close();
      }
    });
}
