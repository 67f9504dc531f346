import { bytes, duration, int } from './options.js';
import { opt } from './option-spec.js';

/** The streams and buckets: replicas, retention, message sizes. */
export const streamOptions = {
  streamReplicas: opt({
    env: 'SLUICE_STREAM_REPLICAS',
    default: '1',
    parse: int(1, 5),
    doc: 'Replicas of every stream and bucket: 1 on a single server, 3 on a cluster.',
  }),
  eventsMaxAge: opt({
    env: 'SLUICE_EVENTS_MAX_AGE',
    default: '0',
    parse: duration,
    doc: 'Age after which the event log drops events (0: never). It is the source of truth for replay: keep it.',
  }),
  streamMaxAge: opt({
    env: 'SLUICE_STREAM_MAX_AGE',
    default: '0',
    parse: duration,
    doc: 'Age after which the derived streams (chunks, status) drop messages (0: never). Vectors are kept for index replay.',
  }),
  streamMaxBytes: opt({
    env: 'SLUICE_STREAM_MAX_BYTES',
    default: '0',
    parse: bytes,
    doc: 'Size limit of each derived stream (0: unlimited); the oldest messages go first.',
  }),
  dlqMaxAge: opt({
    env: 'SLUICE_DLQ_MAX_AGE',
    default: '30d',
    parse: duration,
    doc: 'How long dead letters are kept before they expire.',
  }),
  duplicateWindow: opt({
    env: 'SLUICE_DUPLICATE_WINDOW',
    default: '2m',
    parse: duration,
    doc: 'Window in which JetStream drops a re-published event id as a duplicate.',
  }),
  maxMessageBytes: opt({
    env: 'SLUICE_MAX_MESSAGE_BYTES',
    default: '1M',
    parse: bytes,
    doc: 'Largest message Sluice writes to a stream; must not exceed the server max_payload.',
  }),
};
