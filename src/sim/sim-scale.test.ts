/**
 * The `berth sim` command end to end, and a scale check: a child process registers 1,000 hollow nodes
 * (BERTH_SIM_SCALE_NODES) against a local server; the time and the simulator's RSS are printed, not
 * asserted. SIGTERM stops it and leaves the nodes.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../server/berth-server.ts';
import { HttpClient } from '../client/http-client.ts';
import { R } from '../client/client.ts';
import { createLogger } from '../util/log.ts';

const NODES = Number(process.env.BERTH_SIM_SCALE_NODES ?? 1000);
const RUNNER = "const { simCommand } = await import('./src/cli/sim-command.ts'); await simCommand().parseAsync(process.argv.slice(1), { from: 'user' });";

describe(`berth sim --nodes ${NODES} (child process)`, () => {
  let dataDir: string;
  let server: RunningServer;
  let client: HttpClient;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'berth-sim-scale-'));
    server = await startServer({ dataDir, host: '127.0.0.1', port: 0, store: 'sqlite', log: createLogger({ level: 'warn' }) });
    client = HttpClient.fromKubeconfig(server.kubeconfigPath);
  });
  after(async () => {
    client?.close();
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('registers the nodes, prints progress and a ready line, and leaves the nodes on SIGTERM', { timeout: 300_000 }, async (t) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', RUNNER, '--', '--nodes', String(NODES), '--prefix', 'scale', '--label', 'run=scale'], {
      cwd: new URL('../..', import.meta.url).pathname,
      env: { ...process.env, KUBECONFIG: server.kubeconfigPath, BERTH_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr.on('data', (c) => { err += c; });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const ready = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (c) => {
        out += c;
        const m = /^Berth sim ready:.*$/m.exec(out);
        if (m) resolve(m[0]);
      });
      void exited.then((code) => reject(new Error(`sim exited (${code}) before ready:\n${out}\n${err}`)));
    });
    const wallMs = performance.now() - t0;
    const rss = /rss (\d+) MB/.exec(ready)?.[1];
    const line = `scale check: ${NODES} hollow nodes registered in ${(wallMs / 1000).toFixed(1)} s wall (incl. ~1 s tsx start), simulator RSS ${rss} MB — ${ready}`;
    t.diagnostic(line);
    console.log(line);
    const step = NODES >= 5000 ? 1000 : NODES >= 1000 ? 500 : 0;
    if (step) assert.match(out, new RegExp(`registered ${step}/${NODES} nodes…`));
    assert.match(out, new RegExp(`registered ${NODES}/${NODES} nodes`));

    const nodes = (await client.list(R.nodes, undefined, { labelSelector: 'run=scale,berth.dev/simulated=true' })).items;
    assert.equal(nodes.length, NODES);
    const leases = (await client.list(R.leases, 'kube-node-lease')).items.filter((l) => l.metadata.name!.startsWith('scale-'));
    assert.equal(leases.length, NODES);

    child.kill('SIGTERM');
    assert.equal(await exited, 0, err);
    assert.equal((await client.list(R.nodes, undefined, { labelSelector: 'run=scale' })).items.length, NODES, 'nodes stay after SIGTERM');
  });
});
