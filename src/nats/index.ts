export { connectNats, type NatsOptions } from './connect.js';
export { backoffDelay, isTransientPublishError, sleep, whileNatsRecovers } from './retry.js';
