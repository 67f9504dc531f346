import { Command, Option } from 'commander';
import type { Config } from '../../config/index.js';
import { SluiceError } from '../../errors/index.js';
import { WebhookAllowlist, checkTarget } from '../../output/index.js';
import {
  createSubscription,
  deleteSubscription,
  listSubscriptions,
  webhookEventTypes,
} from '../../output/index.js';
import { withDb } from './keys.js';

const list = (raw: string | undefined): string[] =>
  raw === undefined
    ? []
    : raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');

export function webhooksCommand(config: () => Config): Command {
  const cmd = new Command('webhooks').description(
    "manage a tenant's webhook subscriptions (the HTTP API has the same under /v1/webhooks)",
  );
  cmd
    .command('create')
    .description('subscribe an endpoint; prints the signing secret, shown only now')
    .requiredOption('-t, --tenant <tenant>', 'the tenant whose events are delivered')
    .requiredOption('--url <url>', 'http(s) URL to POST to')
    .addOption(
      new Option(
        '--events <list>',
        `event types, comma-separated (default all): ${webhookEventTypes.join(', ')}`,
      ),
    )
    .option('--collections <list>', 'collections, comma-separated (default all)')
    .option('--json', 'print JSON')
    .action(
      async (o: {
        tenant: string;
        url: string;
        events?: string;
        collections?: string;
        json?: boolean;
      }) => {
        const events = list(o.events);
        for (const e of events)
          if (!(webhookEventTypes as readonly string[]).includes(e))
            throw new SluiceError(
              'REQUEST_INVALID',
              `--events: '${e}' is not one of ${webhookEventTypes.join(', ')}`,
            );
        const url = await checkTarget(o.url, new WebhookAllowlist(config().webhookAllow));
        const sub = await withDb(config, (db) =>
          createSubscription(db.sql, {
            tenant: o.tenant,
            url: url.toString(),
            events,
            collections: list(o.collections),
            max: config().webhookMaxSubscriptions,
          }),
        );
        if (o.json) process.stdout.write(`${JSON.stringify(sub)}\n`);
        else {
          process.stdout.write(`${sub.secret}\n`);
          process.stderr.write(
            `webhook ${sub.id} → ${sub.url}: store the secret now, it is not shown again\n`,
          );
        }
      },
    );
  cmd
    .command('ls')
    .description("list a tenant's subscriptions (never their secrets)")
    .requiredOption('-t, --tenant <tenant>', 'the tenant')
    .action(async (o: { tenant: string }) => {
      const subs = await withDb(config, (db) => listSubscriptions(db.sql, o.tenant));
      for (const s of subs)
        process.stdout.write(
          `${s.id}  ${s.url}  ${s.events.join(',') || 'all events'}  ${s.collections.join(',') || 'all collections'}${s.disabledAt ? `  disabled: ${s.disabledReason}` : ''}\n`,
        );
      if (subs.length === 0) process.stdout.write('no webhooks\n');
    });
  cmd
    .command('rm')
    .description('delete a subscription (its pending deliveries are cancelled)')
    .requiredOption('-t, --tenant <tenant>', 'the tenant')
    .argument('<id>', 'the subscription id (wh_…)')
    .action(async (id: string, o: { tenant: string }) => {
      const ok = await withDb(config, (db) => deleteSubscription(db.sql, o.tenant, id));
      if (!ok) throw new SluiceError('NOT_FOUND', `no webhook ${id} of tenant ${o.tenant}`);
      process.stdout.write(`deleted ${id}\n`);
    });
  return cmd;
}
