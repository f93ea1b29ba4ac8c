/**
 * Test fixture for the kill -9 test: creates keys forever, printing each key once the backend has
 * acknowledged it. Usage: node --import tsx crash-writer.fixture.ts <db-file>
 */
import { openSqliteBackend } from './index.ts';

const backend = openSqliteBackend(process.argv[2]);
for (let i = 0; ; i++) {
  const key = `/crash/k${i}`;
  await backend.create(key, `value-${i}`);
  process.stdout.write(`${key}\n`);
}
