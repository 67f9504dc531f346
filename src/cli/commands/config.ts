import { Command } from 'commander';
import { describeConfig, type Config } from '../../config/index.js';

export function configCommand(config: () => Config): Command {
  return new Command('config')
    .description('print the effective configuration (secrets redacted) and exit')
    .action(() => {
      process.stdout.write(`${JSON.stringify(describeConfig(config()), null, 2)}\n`);
    });
}
