import type { Config, StreamConfig } from '../config/index.js';
import { modelKey } from '../models/index.js';
import type { Declared } from './apply.js';
import {
  bodiesBucket,
  filesBucket,
  consumerPair,
  declareStreams,
  type TopologyOptions,
} from './declare.js';

/** The settings the streams, buckets and durables are declared from. */
export type TopologySettings = StreamConfig &
  Pick<Config, 'namespace' | 'ackWait' | 'models' | 'filesMaxAge'>;

export function topologyOptions(config: TopologySettings): TopologyOptions {
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

/** Durable names of the roles' consumers. */
export const durables = {
  parser: 'parser',
  chunker: 'chunker',
  /** The chunker's second durable: parsed files. */
  chunkerParsed: 'chunker-parsed',
  embedder: (model: string) => `embedder-${modelKey(model)}`,
  indexer: 'indexer',
  projection: (projection: string, stream: 'events' | 'status') => `proj-${projection}-${stream}`,
  output: (stream: 'events' | 'status') => `output-${stream}`,
} as const;

export const projections = ['documents', 'collections'] as const;

/** Everything Sluice declares on NATS for this configuration. */
export function declareTopology(config: TopologySettings): Declared {
  const o = topologyOptions(config);
  const ns = config.namespace;
  const opts = { ackWaitMs: config.ackWait };
  return {
    streams: declareStreams(o),
    // Every durable reads its whole stream, so none has a filter (see filterConfig).
    consumers: [
      ...consumerPair(ns, 'events', durables.parser, [], opts),
      ...consumerPair(ns, 'events', durables.chunker, [], opts),
      ...consumerPair(ns, 'parsed', durables.chunkerParsed, [], opts),
      // One embedder per model, each reading every chunk: a new model builds its own index.
      ...config.models.flatMap((m) => consumerPair(ns, 'chunks', durables.embedder(m), [], opts)),
      ...consumerPair(ns, 'vectors', durables.indexer, [], opts),
      ...projections.flatMap((p) => [
        ...consumerPair(ns, 'events', durables.projection(p, 'events'), [], opts),
        ...consumerPair(ns, 'status', durables.projection(p, 'status'), [], opts),
      ]),
      // The output role (webhooks) folds both streams as the documents projection does.
      ...consumerPair(ns, 'events', durables.output('events'), [], opts),
      ...consumerPair(ns, 'status', durables.output('status'), [], opts),
    ],
    buckets: [
      { name: bodiesBucket(config.namespace), replicas: config.streamReplicas },
      {
        name: filesBucket(config.namespace),
        replicas: config.streamReplicas,
        maxAgeMs: config.filesMaxAge,
      },
    ],
  };
}
