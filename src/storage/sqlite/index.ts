/** The SQLite backend's entry point. */
export { openSqliteBackend, type SqliteBackend, type SqliteBackendOptions } from './sqlite-backend.ts';
