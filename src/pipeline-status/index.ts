export {
  PipelineStatusReader,
  type DurableSample,
  type DurableStatus,
  type PipelineStatus,
  type ProcessStatus,
} from './pipeline-status.js';
