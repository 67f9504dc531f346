import type { Config } from '../config/index.js';
import type { Declared } from './apply.js';
import { bodiesBucket, declareStreams, type TopologyOptions } from './declare.js';

export function topologyOptions(config: Config): TopologyOptions {
  return {
    namespace: config.namespace,
    replicas: config.streamReplicas,
    eventsMaxAge: config.eventsMaxAge,
    streamMaxAge: config.streamMaxAge,
    streamMaxBytes: config.streamMaxBytes,
    dlqMaxAge: config.dlqMaxAge,
    maxMessageBytes: config.maxMessageBytes,
    duplicateWindow: config.duplicateWindow,
  };
}

/** Everything Sluice declares on NATS for this configuration. */
export function declareTopology(config: Config): Declared {
  const o = topologyOptions(config);
  return {
    streams: declareStreams(o),
    consumers: [],
    buckets: [{ name: bodiesBucket(config.namespace), replicas: config.streamReplicas }],
  };
}
