import { int } from './options.js';
import { opt } from './option-spec.js';

/** Replay of a projection. */
export const replayOptions = {
  replayBatch: opt({
    env: 'SLUICE_REPLAY_BATCH',
    default: '2000',
    parse: int(1, 10_000),
    doc: 'Messages per transaction when a replay rebuilds a projection.',
  }),
};
