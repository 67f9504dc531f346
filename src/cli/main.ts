#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { loadConfig } from '../config/index.js';
import { isSluiceError } from '../errors/index.js';
const program = new Command('sluice')
  .description('Event-sourced document indexing on NATS JetStream')
  .version('0.1.0')
  .showHelpAfterError()
  .exitOverride();

// The configuration is read from the environment once, here, and handed down.
const config = () => loadConfig();

/**
 * Each command's module, loaded only when that command runs: `start` and `publish` pull
 * in the model runtime (seconds of CPU), which `sluice keys create` has no use for. Help
 * and unknown commands load them all.
 */
const commands: Record<string, () => Promise<(c: typeof config) => Command>> = {
  start: async () => (await import('./commands/start.js')).startCommand,
  migrate: async () => (await import('./commands/migrate.js')).migrateCommand,
  publish: async () => (await import('./commands/publish.js')).publishCommand,
  topology: async () => (await import('./commands/topology.js')).topologyCommand,
  status: async () => (await import('./commands/status.js')).statusCommand,
  dlq: async () => (await import('./commands/dlq.js')).dlqCommand,
  replay: async () => (await import('./commands/replay.js')).replayCommand,
  models: async () => (await import('./commands/models.js')).modelsCommand,
  keys: async () => (await import('./commands/keys.js')).keysCommand,
  webhooks: async () => (await import('./commands/webhooks.js')).webhooksCommand,
  eval: async () => (await import('./commands/eval.js')).evalCommand,
  config: async () => (await import('./commands/config.js')).configCommand,
};
const named = process.argv.slice(2).find((a) => !a.startsWith('-'));
const wanted =
  named !== undefined && Object.hasOwn(commands, named) ? [named] : Object.keys(commands);
for (const name of wanted) program.addCommand((await commands[name]!())(config));

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
