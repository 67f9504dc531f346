import { Command, Option } from 'commander';
import { roleNames, type Config, type Role } from '../../config/index.js';
import { createLogger, wantsPretty } from '../../logger.js';
import { startApp } from '../../app/index.js';
import { startConfiguredTracing } from '../../app/index.js';

export function startCommand(config: () => Config): Command {
  return new Command('start')
    .description('run Sluice: every role in one process by default')
    .addOption(
      new Option(
        '--roles <roles>',
        `comma-separated roles (${roleNames.join(', ')}); default: all (or SLUICE_ROLES)`,
      ).argParser((v) => v.split(',').map((r) => r.trim()) as Role[]),
    )
    .action(async (opts: { roles?: Role[] }) => {
      const cfg = config();
      if (opts.roles) {
        const bad = opts.roles.filter((r) => !(roleNames as readonly string[]).includes(r));
        if (bad.length > 0)
          throw new Error(`unknown role(s): ${bad.join(', ')}; known: ${roleNames.join(', ')}`);
        cfg.roles = opts.roles;
      }
      const logger = createLogger({
        level: cfg.logLevel,
        pretty: wantsPretty(cfg.logFormat, process.stdout.isTTY),
      });
      const tracing = await startConfiguredTracing(cfg, cfg.roles);
      if (tracing)
        logger.info({ endpoint: cfg.otlpTracesEndpoint || cfg.otlpEndpoint }, 'tracing on');
      const app = await startApp(cfg, logger);
      await app.stopped;
      await tracing
        ?.shutdown()
        .catch((err: unknown) => logger.warn({ err }, 'could not export the last spans'));
      // Everything was drained and closed. Should a library still hold a handle open (a
      // reconnect timer of a connection that died in an outage, say), say which and exit
      // rather than linger as a process that stopped working but did not end.
      setTimeout(() => {
        const handles = (
          process as unknown as { _getActiveHandles(): { constructor: { name: string } }[] }
        )._getActiveHandles();
        logger.warn(
          { handles: handles.map((h) => h.constructor.name) },
          'handles still open 5 s after stopping; exiting',
        );
        process.exit(0);
      }, 5_000).unref();
    });
}
