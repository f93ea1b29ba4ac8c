/** The Client contract against the in-process LocalClient on a real server's Registry. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../server/berth-server.ts';
import { createLogger } from '../util/log.ts';
import { runClientSuite } from './client.case.ts';
import { LocalClient } from './local-client.ts';

runClientSuite('LocalClient', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'berth-local-client-'));
  const server = await startServer({ dataDir, host: '127.0.0.1', port: 0, store: 'sqlite', log: createLogger({ level: 'warn' }) });
  return {
    client: new LocalClient(server.registry),
    async stop() { await server.stop(); await rm(dataDir, { recursive: true, force: true }); },
  };
});
