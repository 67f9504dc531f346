// The operations surface every process has: probes, the Prometheus scrape, the heartbeat.
export {
  processId,
  readHeartbeats,
  startHeartbeat,
  type Heartbeat,
  type HeartbeatOptions,
} from './heartbeat.js';
export { listen } from './listen.js';
export { startOpsServer } from './ops-server.js';
export { pipelineCheck } from './pipeline-check.js';
export { registerOpsRoutes, type Check } from './routes.js';
