/**
 * The server process of `api-security`: startServer as `berth server` runs it (controllers on,
 * SQLite, the CLI's logger), with one switch the CLI does not have — `--insecure-for-benchmark`:
 * plain HTTP, every request as system:masters, authorization skipped (ServerOptions.insecureForBenchmark).
 * All three configurations of the bench run through this one entry point, so they differ only in
 * that switch and the credentials the client presents.
 *
 *   node --import tsx bench/lib/server-child.ts --data-dir DIR --port PORT [--insecure-for-benchmark]
 *
 * Prints `ready <url>` on stdout once serving; SIGTERM stops it cleanly.
 */
import { startServer } from '../../src/server/berth-server.ts';
import { createLogger } from '../../src/util/log.ts';

function arg(name: string): string {
  const i = process.argv.indexOf(name);
  if (i < 0 || i + 1 >= process.argv.length) throw new Error(`missing ${name}`);
  return process.argv[i + 1];
}

const log = createLogger();
const server = await startServer({
  dataDir: arg('--data-dir'), host: '127.0.0.1', port: Number(arg('--port')), store: 'sqlite', log, controllers: true,
  insecureForBenchmark: process.argv.includes('--insecure-for-benchmark'),
});
process.stdout.write(`ready ${server.url}\n`);
let stopping = false;
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.on(sig, () => {
    if (stopping) process.exit(1);
    stopping = true;
    server.stop().then(() => process.exit(0), () => process.exit(1));
  });
}
