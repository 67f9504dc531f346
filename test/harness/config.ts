import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { inject } from 'vitest';
import { loadConfig, type Config } from '../../src/config/index.js';
import {
  applyTopology,
  declareTopology,
  deleteNamespace,
  type DeclaredConsumer,
} from '../../src/topology/index.js';
import { uniqueNamespace } from './names.js';

/** A configuration for one test: its own namespace on the shared servers, quiet logs. */
export function testConfig(overrides: Partial<Config> = {}): Config {
  return loadConfig(
    { LOG_LEVEL: 'silent' },
    {
      namespace: uniqueNamespace(),
      natsUrl: [inject('natsUrl')],
      databaseUrl: inject('databaseUrl'),
      ...overrides,
    },
  );
}

/** Applies the namespace's topology; the returned function deletes its streams and buckets. */
export async function withTopology(
  nc: NatsConnection,
  config: Config,
  extraConsumers: DeclaredConsumer[] = [],
): Promise<() => Promise<void>> {
  const jsm = await jetstreamManager(nc);
  const declared = declareTopology(config);
  await applyTopology(jsm, nc, {
    ...declared,
    consumers: [...declared.consumers, ...extraConsumers],
  });

  return async () => {
    await deleteNamespace(nc, config.namespace);
  };
}
