export {
  configSpec,
  describeConfig,
  loadConfig,
  roleNames,
  type Config,
  type ConfigSpec,
  type Role,
} from './config.js';
