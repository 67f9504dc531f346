#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { loadConfig } from '../config/index.js';
import { isSluiceError } from '../errors/index.js';
import { configCommand } from './commands/config.js';
import { dlqCommand } from './commands/dlq.js';
import { evalCommand } from './commands/eval.js';
import { keysCommand } from './commands/keys.js';
import { statusCommand } from './commands/status.js';
import { webhooksCommand } from './commands/webhooks.js';
import { migrateCommand } from './commands/migrate.js';
import { modelsCommand } from './commands/models.js';
import { publishCommand } from './commands/publish.js';
import { replayCommand } from './commands/replay.js';
import { startCommand } from './commands/start.js';
import { topologyCommand } from './commands/topology.js';

const program = new Command('sluice')
  .description('Event-sourced document indexing on NATS JetStream')
  .version('0.1.0')
  .showHelpAfterError()
  .exitOverride();

// The configuration is read from the environment once, here, and handed down.
const config = () => loadConfig();

program.addCommand(startCommand(config));
program.addCommand(migrateCommand(config));
program.addCommand(publishCommand(config));
program.addCommand(topologyCommand(config));
program.addCommand(statusCommand(config));
program.addCommand(dlqCommand(config));
program.addCommand(replayCommand(config));
program.addCommand(modelsCommand(config));
program.addCommand(keysCommand(config));
program.addCommand(webhooksCommand(config));
program.addCommand(evalCommand(config));

program.addCommand(configCommand(config));

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  if (isSluiceError(err)) {
    process.stderr.write(`error [${err.code}]: ${err.message}\n`);
  } else {
    process.stderr.write(
      `error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
  }
  process.exit(1);
}
