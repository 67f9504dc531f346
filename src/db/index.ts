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
