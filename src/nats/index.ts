export { connectNats, type NatsOptions } from './connect.js';
export { backoffDelay, isTransientPublishError, sleep } from './retry.js';
