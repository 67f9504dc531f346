export {
  Replayer,
  replayDurable,
  type ReplayOptions,
  type ReplayProgress,
  type ReplayResult,
} from './replayer.js';
export { replayables, replayTarget, type Replayable } from './targets.js';
export { type ReplaySettings } from './drive.js';
