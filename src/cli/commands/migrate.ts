import { Command } from 'commander';
import type { Config } from '../../config/index.js';
import {
  createDatabase,
  dbUnavailable,
  isTransientDbError,
  runMigrations,
} from '../../db/index.js';

export function migrateCommand(config: () => Config): Command {
  return new Command('migrate')
    .description('apply database migrations and exit (sluice start also does this)')
    .action(async () => {
      const { databaseUrl } = config();
      const database = createDatabase({
        url: databaseUrl,
        max: 2,
        applicationName: 'sluice-migrate',
      });
      try {
        await runMigrations(database);
      } catch (err) {
        throw isTransientDbError(err) ? dbUnavailable(err, databaseUrl) : err;
      } finally {
        await database.close();
      }
      process.stdout.write('migrations applied\n');
    });
}
