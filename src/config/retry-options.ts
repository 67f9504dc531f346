import { duration, int } from './options.js';
import { opt } from './option-spec.js';

/** Every consumer: how long a batch may take and how a failing message is retried. */
export const retryOptions = {
  ackWait: opt({
    env: 'SLUICE_ACK_WAIT',
    default: '30s',
    parse: duration,
    doc: 'How long a delivered message may stay unacknowledged before it is redelivered (long batches send working()).',
  }),
  publishDeadline: opt({
    env: 'SLUICE_PUBLISH_DEADLINE',
    default: '30s',
    parse: duration,
    doc: "How long a stage retries one publish through elections and restarts. Past it the publish fails as NATS_UNAVAILABLE: the stage's consumers hold their batch, attempts unspent, until NATS and the stream's leader answer again (docs/architecture.md, Outages).",
  }),
  handlerTimeout: opt({
    env: 'SLUICE_HANDLER_TIMEOUT',
    default: '5m',
    parse: duration,
    doc: 'Longest a stage may work on one batch; past it the batch fails with HANDLER_TIMEOUT (retried) instead of being kept alive for ever.',
  }),
  quickRetries: opt({
    env: 'SLUICE_RETRY_QUICK',
    default: '3',
    parse: int(0, 20),
    doc: 'Quick redeliveries (nak with backoff from 500 ms) before a failing message is parked in the retry stream.',
  }),
  retryBackoff: opt({
    env: 'SLUICE_RETRY_BACKOFF',
    default: '5s',
    parse: duration,
    doc: 'First wait of a parked message, doubled on each attempt up to 10 minutes.',
  }),
  maxAttempts: opt({
    env: 'SLUICE_RETRY_MAX_ATTEMPTS',
    default: '8',
    parse: int(1, 100),
    doc: 'Attempts in all (quick and parked) before a message is dead-lettered.',
  }),
};
