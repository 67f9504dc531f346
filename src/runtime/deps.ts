import type { NatsConnection } from '@nats-io/transport-node';
import type { Config } from '../config/index.js';
import type { Logger } from '../logger.js';
import type { Breakers } from './breakers.js';
import type { RetryPolicy, RuntimeDeps } from './consumer.js';
import type { PipelinePublisher } from './publisher.js';

/** The settings a consumer's runtime reads: these, not the whole Config. */
export type RuntimeSettings = Pick<
  Config,
  'namespace' | 'quickRetries' | 'retryBackoff' | 'maxAttempts' | 'ackWait' | 'handlerTimeout'
>;

export function retryPolicyOf(
  config: Pick<Config, 'quickRetries' | 'retryBackoff' | 'maxAttempts'>,
): RetryPolicy {
  return {
    quickRetries: config.quickRetries,
    quickBackoffMs: 500,
    parkBackoffMs: config.retryBackoff,
    parkBackoffMaxMs: 600_000,
    maxAttempts: config.maxAttempts,
  };
}

export function runtimeDeps(
  config: RuntimeSettings,
  nc: NatsConnection,
  logger: Logger,
  publisher: PipelinePublisher,
  breakers?: Breakers,
): RuntimeDeps {
  return {
    nc,
    namespace: config.namespace,
    logger,
    publisher,
    retry: retryPolicyOf(config),
    ackWaitMs: config.ackWait,
    handlerTimeoutMs: config.handlerTimeout,
    ...(breakers ? { breakers } : {}),
  };
}
