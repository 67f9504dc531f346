import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { Command } from 'commander';
import { activateModel, activeAssignments, coverage } from '../../api/index.js';
import type { Config } from '../../config/index.js';
import { dropModelIndex, indexedPerModel } from '../../consumers/indexer/index.js';
import {
  createDatabase,
  dbUnavailable,
  isTransientDbError,
  runMigrations,
  type Database,
} from '../../db/index.js';
import { SluiceError } from '../../errors/index.js';
import { createLogger } from '../../logger.js';
import { ensureModel } from '../../models/index.js';
import { connectNats } from '../../nats/index.js';
import { durables, retryDurable, streamName } from '../../topology/index.js';

async function withDb<T>(config: Config, f: (db: Database) => Promise<T>): Promise<T> {
  const db = createDatabase({ url: config.databaseUrl, max: 3, applicationName: 'sluice-models' });
  try {
    await runMigrations(db);
    return await f(db);
  } catch (err) {
    throw isTransientDbError(err) ? dbUnavailable(err, config.databaseUrl) : err;
  } finally {
    await db.close();
  }
}

export function modelsCommand(config: () => Config): Command {
  const models = new Command('models').description(
    'embedding models per collection: blue/green reindexing',
  );

  models
    .command('status')
    .description('each model: embedder lag, what its index covers, where it is active')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const cfg = config();
      const nc = await connectNats({
        servers: cfg.natsUrl,
        name: 'sluice-models',
        logger: createLogger({ level: 'warn' }),
      });
      try {
        const jsm = await jetstreamManager(nc);
        const report = await withDb(cfg, async (db) => {
          const indexed = await indexedPerModel(db.sql);
          const active = await activeAssignments(db.sql);
          const names = [...new Set([...cfg.models, ...indexed.map((i) => i.model)])];
          return Promise.all(
            names.map(async (name) => {
              const info = await jsm.consumers
                .info(streamName(cfg.namespace, 'chunks'), durables.embedder(name))
                .catch(() => null);
              const ix = indexed.find((i) => i.model === name);
              return {
                model: name,
                configured: cfg.models.includes(name),
                default: cfg.models[0] === name,
                embedder: info
                  ? {
                      pending: info.num_pending,
                      inFlight: info.num_ack_pending,
                      done: info.ack_floor.stream_seq,
                    }
                  : null,
                indexedDocuments: ix?.documents ?? 0,
                indexedChunks: ix?.chunks ?? 0,
                activeFor: active
                  .filter((a) => a.model === name)
                  .map((a) => `${a.tenant}/${a.collection}`),
              };
            }),
          );
        });
        if (o.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        else {
          for (const m of report) {
            const lag = m.embedder
              ? `${m.embedder.pending} chunk events waiting, ${m.embedder.inFlight} in flight`
              : 'no embedder consumer';
            process.stdout.write(
              `${m.model}${m.default ? ' (default)' : ''}${m.configured ? '' : ' (not in SLUICE_MODELS)'}: ${lag}; ` +
                `index: ${m.indexedDocuments} documents, ${m.indexedChunks} chunks; active for: ${m.activeFor.join(', ') || '—'}\n`,
            );
          }
        }
      } finally {
        await nc.close();
      }
    });

  models
    .command('pull')
    .description(
      'make sure every model in SLUICE_MODELS is in SLUICE_MODELS_DIR, downloading it from the Hugging Face hub if not (an init step)',
    )
    .action(async () => {
      const cfg = config();
      for (const name of cfg.models) {
        const present = existsSync(join(resolve(cfg.modelsDir, name), 'tokenizer.json'));
        const spec = await ensureModel(cfg.modelsDir, name, cfg.modelDtype, true);
        process.stdout.write(
          `${name}: ${present ? 'present' : 'downloaded'} in ${spec.dir} (${spec.dimensions} dimensions, ${spec.maxTokens} tokens)\n`,
        );
      }
    });

  models
    .command('activate')
    .description("switch a collection's queries to a model, in one step")
    .argument('<collection>', 'the collection')
    .argument('<model>', 'the model name (as in SLUICE_MODELS)')
    .requiredOption('-t, --tenant <tenant>', 'the tenant of the collection')
    .option('--force', "activate even if the model's index does not cover the collection yet")
    .action(async (collection: string, model: string, o: { tenant: string; force?: boolean }) => {
      const cfg = config();
      const c = await withDb(cfg, (db) =>
        activateModel(db.sql, o.tenant, collection, model, o.force ?? false),
      );
      if (!cfg.models.includes(model))
        process.stderr.write(
          `warning: ${model} is not in SLUICE_MODELS here; API processes must serve it\n`,
        );
      process.stdout.write(
        `${o.tenant}/${collection}: queries now use ${model} (its index covers ${c.indexed} of ${c.documents} documents)\n`,
      );
    });

  models
    .command('coverage')
    .description("how much of a collection a model's index covers")
    .argument('<collection>')
    .argument('<model>')
    .requiredOption('-t, --tenant <tenant>', 'the tenant of the collection')
    .action(async (collection: string, model: string, o: { tenant: string }) => {
      const c = await withDb(config(), (db) => coverage(db.sql, o.tenant, collection, model));
      process.stdout.write(
        `${model}: ${c.indexed} of ${c.documents} documents of ${o.tenant}/${collection}\n`,
      );
    });

  models
    .command('retire')
    .description("drop a model's index and embedder consumer (remove it from SLUICE_MODELS too)")
    .argument('<model>', 'the model name')
    .action(async (model: string) => {
      const cfg = config();
      const nc = await connectNats({
        servers: cfg.natsUrl,
        name: 'sluice-models',
        logger: createLogger({ level: 'warn' }),
      });
      try {
        const removed = await withDb(cfg, async (db) => {
          const inUse = (await activeAssignments(db.sql)).filter((a) => a.model === model);
          if (inUse.length > 0) {
            throw new SluiceError(
              'MODEL_IN_USE',
              `${model} is active for ${inUse.map((a) => `${a.tenant}/${a.collection}`).join(', ')}; activate another model there first`,
            );
          }
          return dropModelIndex(db.sql, model);
        });
        const jsm = await jetstreamManager(nc);
        const durable = durables.embedder(model);
        await jsm.consumers.delete(streamName(cfg.namespace, 'chunks'), durable).catch(() => false);
        await jsm.consumers
          .delete(streamName(cfg.namespace, 'retry'), retryDurable(durable))
          .catch(() => false);
        process.stdout.write(
          `${model} retired: ${removed} chunks removed from the index, embedder consumer deleted\n`,
        );
        if (cfg.models.includes(model))
          process.stderr.write(`remove ${model} from SLUICE_MODELS, or the embedder starts over\n`);
      } finally {
        await nc.close();
      }
    });
  return models;
}
