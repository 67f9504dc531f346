import { Command } from 'commander';
import { createKey, listKeys, revokeKey } from '../../api/index.js';
import type { Config } from '../../config/index.js';
import {
  createDatabase,
  dbUnavailable,
  isTransientDbError,
  runMigrations,
  type Database,
} from '../../db/index.js';
import { SluiceError } from '../../errors/index.js';

/** Runs `f` with a migrated database connection, closed after. */
export async function withDb<T>(config: () => Config, f: (db: Database) => Promise<T>): Promise<T> {
  const { databaseUrl } = config();
  const db = createDatabase({ url: databaseUrl, max: 2, applicationName: 'sluice-keys' });
  try {
    await runMigrations(db);
    return await f(db);
  } catch (err) {
    throw isTransientDbError(err) ? dbUnavailable(err, databaseUrl) : err;
  } finally {
    await db.close();
  }
}

const TOKEN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export function keysCommand(config: () => Config): Command {
  const keys = new Command('keys').description(
    'manage API keys (stored hashed; a key is shown once)',
  );
  keys
    .command('create')
    .description('create a key for a tenant and print it')
    .requiredOption('-t, --tenant <tenant>', 'the tenant the key reads and writes')
    .option('--admin', "may also manage the tenant's dead letters and search settings")
    .option(
      '--operator',
      "administers the whole installation: every tenant's dead letters, and replays",
    )
    .option('--name <name>', 'a note to recognise the key by')
    .option('--json', 'print JSON')
    .action(
      async (o: {
        tenant: string;
        admin?: boolean;
        operator?: boolean;
        name?: string;
        json?: boolean;
      }) => {
        if (!TOKEN.test(o.tenant))
          throw new SluiceError(
            'REQUEST_INVALID',
            `tenant '${o.tenant}' is not a valid name ([a-z0-9][a-z0-9_-]*)`,
          );
        const k = await withDb(config, (db) =>
          createKey(db.sql, {
            tenant: o.tenant,
            admin: o.admin ?? false,
            operator: o.operator ?? false,
            ...(o.name === undefined ? {} : { name: o.name }),
          }),
        );
        const operator = o.operator ?? false;
        const admin = (o.admin ?? false) || operator;
        process.stdout.write(
          o.json
            ? `${JSON.stringify({ ...k, tenant: o.tenant, admin, operator })}\n`
            : `${k.key}\n`,
        );
        if (!o.json)
          process.stderr.write(
            `key ${k.id} for tenant ${o.tenant}${role({ admin, operator })}: store it now, it is not shown again\n`,
          );
      },
    );
  keys
    .command('ls')
    .description('list keys (never their secrets)')
    .action(async () => {
      const list = await withDb(config, (db) => listKeys(db.sql));
      for (const k of list) {
        process.stdout.write(
          `${k.id}  ${k.tenant}${role(k)}  ${k.createdAt.slice(0, 19)}${k.revoked ? '  revoked' : ''}${k.name ? `  ${k.name}` : ''}\n`,
        );
      }
      if (list.length === 0) process.stdout.write('no keys\n');
    });
  keys
    .command('revoke')
    .description('revoke a key by id (takes effect within seconds)')
    .argument('<id>', 'the key id (the part after sk_)')
    .action(async (id: string) => {
      if (!(await withDb(config, (db) => revokeKey(db.sql, id))))
        throw new SluiceError('NOT_FOUND', `no active key ${id}`);
      process.stdout.write(`revoked ${id}\n`);
    });
  return keys;
}

function role(k: { admin: boolean; operator: boolean }): string {
  return k.operator ? ' (operator)' : k.admin ? ' (admin)' : '';
}
