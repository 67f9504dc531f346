import { connect, type NatsConnection } from '@nats-io/transport-node';
import { SluiceError } from '../errors/index.js';
import type { Logger } from '../logger.js';

export interface NatsOptions {
  servers: string[];
  /** Client name shown by the server (`nats server report connections`). */
  name: string;
  logger: Logger;
  /** How long the first connection may take before giving up. @defaultValue 10_000 */
  connectTimeoutMs?: number;
}

/**
 * Connects and keeps reconnecting for ever: a Sluice process outlives NATS restarts and
 * leader elections; JetStream calls fail fast meanwhile and are retried by their callers.
 */
export async function connectNats(options: NatsOptions): Promise<NatsConnection> {
  const log = options.logger;
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: options.servers,
      name: options.name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      waitOnFirstConnect: false,
      timeout: options.connectTimeoutMs ?? 10_000,
      // Capturing a stack trace for every request cost a third of the producer's CPU;
      // errors still carry the failing subject.
      noAsyncTraces: true,
    });
  } catch (err) {
    throw new SluiceError(
      'NATS_UNAVAILABLE',
      `cannot connect to NATS at ${options.servers.join(',')}`,
      {
        cause: err,
      },
    );
  }
  void (async () => {
    for await (const s of nc.status()) {
      switch (s.type) {
        case 'disconnect':
          log.warn({ server: s.server }, 'nats disconnected');
          break;
        case 'reconnect':
          log.info({ server: s.server }, 'nats reconnected');
          break;
        case 'error':
          log.error({ err: s.error }, 'nats error');
          break;
        default:
          log.trace({ status: s.type }, 'nats status');
      }
    }
  })();
  return nc;
}
