/** The SQLite backend's entry point. */
export { openSqliteBackend } from './sqlite-backend.ts';
export type { SqliteBackend, SqliteBackendOptions } from './backend-options.ts';
