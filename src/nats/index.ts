export { connectNats, type NatsOptions } from './connect.js';
