/** The SQLite backend's entry point. */
export { openSqliteBackend, type SqliteBackendOptions } from './sqlite-backend.ts';
