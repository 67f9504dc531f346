export {
  createDatabase,
  type Database,
  type DatabaseOptions,
  type Db,
  type Sql,
  type SqlFragment,
} from './client.js';
export { runMigrations } from './migrate.js';
export { dataErrorState, dbUnavailable, isTransientDbError } from './errors.js';
export { copyHeader, copyRow, copyTrailer } from './copy-binary.js';
export {
  LIVE,
  createShadow,
  dropPrevious,
  dropShadow,
  finishShadow,
  previousExists,
  qualified,
  quotedName,
  rollback,
  seedShadow,
  shadowSchema,
  swapIn,
  tablesIn,
} from './shadow.js';
export { anyVector, bytea, tsvector } from './types.js';
