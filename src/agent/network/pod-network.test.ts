/**
 * Root integration test: real netns, CNI plugins from /usr/lib/cni, a test bridge and host routes.
 * Ranges are configurable (BERTH_TEST_CLUSTER_CIDR, BERTH_TEST_NODE_CIDR, BERTH_TEST_SERVICE_CIDR,
 * BERTH_TEST_CONFLICT_ADDR) and must be unused on the machine; everything made is removed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { cidrContains } from '../../apis/cidr.ts';
import { runCommand } from '../../host/spawner.ts';
import { checkCidrs, ensureHostRoutes, removeBridge, removeHostRoutes } from './host-guard.ts';
import { netnsName } from './netns.ts';
import { PodNetwork } from './pod-network.ts';

const CLUSTER = process.env.BERTH_TEST_CLUSTER_CIDR ?? '10.213.0.0/16';
const NODE = process.env.BERTH_TEST_NODE_CIDR ?? '10.213.5.0/24';
const SERVICE = process.env.BERTH_TEST_SERVICE_CIDR ?? '10.214.0.0/16';
const CONFLICT_ADDR = process.env.BERTH_TEST_CONFLICT_ADDR ?? '10.215.3.1/24';
const BRIDGE = 'berthtest0';
const PREFIX = 'berth-test-';
const PORT = 18080;
const podA = { uid: 'aaaa0000-0000-4000-8000-00000000000a', name: 'pod-a', namespace: 'default' };
const podB = { uid: 'bbbb0000-0000-4000-8000-00000000000b', name: 'pod-b', namespace: 'default' };
const podC = { uid: 'cccc0000-0000-4000-8000-00000000000c', name: 'pod-c', namespace: 'other' };

async function sh(file: string, ...args: string[]): Promise<string> {
  const r = await runCommand(file, args);
  if (r.code !== 0) throw new Error(`${file} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
// Only what this test creates (its bridge, its namespaces, veths on its bridge): other Berth
// instances on the machine (e.g. the node-agent end-to-end suite running beside it) are not ours.
const berthLines = async (...args: string[]) => (await sh('ip', ...args)).split('\n').filter((l) => l.includes(BRIDGE) || l.includes(PREFIX));

describe('PodNetwork on a real host (root)', () => {
  let dataDir = '';
  let net: PodNetwork;
  let ipForward = '';
  let server: ChildProcess | undefined;
  let netnsBefore: string[] = [];
  let linksBefore: string[] = [];
  const ips: Record<string, string> = {};

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'pod-network.test.ts needs root (netns, bridges, routes): run it as root');
    ipForward = (await readFile('/proc/sys/net/ipv4/ip_forward', 'utf8')).trim();
    netnsBefore = await berthLines('netns', 'list');
    linksBefore = await berthLines('link', 'show');
    assert.deepEqual(netnsBefore.filter((l) => l.startsWith(PREFIX)), [], 'leftover test namespaces from an earlier run');
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'berth-net-'));
    net = new PodNetwork({ dataDir, nodePodCidr: NODE, bridgeName: BRIDGE, netnsPrefix: PREFIX });
  });

  after(async () => {
    if (server && server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((r) => server!.once('exit', r));
      server.kill('SIGKILL');
      await exited;
    }
    for (const p of [podA, podB, podC]) await net?.teardown(p.uid).catch(() => undefined);
    await removeHostRoutes({ podClusterCidr: CLUSTER, serviceCidr: SERVICE, bridgeName: BRIDGE }).catch(() => undefined);
    await removeBridge(BRIDGE).catch(() => undefined);
    await removeBridge('berthtg0').catch(() => undefined);
    if (ipForward) await writeFile('/proc/sys/net/ipv4/ip_forward', ipForward);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('the overlap check passes for the free test ranges and fires for an overlapping one', async () => {
    await checkCidrs({ podCidr: CLUSTER, serviceCidr: SERVICE, bridgeName: BRIDGE });
    await sh('ip', 'link', 'add', 'berthtg0', 'type', 'bridge');
    try {
      await sh('ip', 'addr', 'add', CONFLICT_ADDR, 'dev', 'berthtg0');
      const wide = CONFLICT_ADDR.replace(/^(\d+\.\d+)\..*$/, '$1.0.0/16');
      await assert.rejects(checkCidrs({ podCidr: wide, serviceCidr: SERVICE, bridgeName: BRIDGE }), (err: Error) => {
        assert.match(err.message, new RegExp(`pod CIDR ${wide.replace(/\./g, '\\.')} overlaps [0-9./]+ on berthtg0; choose another with --pod-cidr`));
        return true;
      });
      await assert.rejects(checkCidrs({ podCidr: CLUSTER, serviceCidr: wide, bridgeName: BRIDGE }), /service CIDR .* on berthtg0; choose another with --service-cidr/);
    } finally {
      await removeBridge('berthtg0');
    }
  });

  it('installs the unreachable pod route and the service route; they are recognised as Berth\'s own', async () => {
    await ensureHostRoutes({ podClusterCidr: CLUSTER, serviceCidr: SERVICE, bridgeName: BRIDGE });
    await ensureHostRoutes({ podClusterCidr: CLUSTER, serviceCidr: SERVICE, bridgeName: BRIDGE }); // idempotent
    const unreach = JSON.parse(await sh('ip', '-j', 'route', 'show', 'type', 'unreachable', 'exact', CLUSTER));
    assert.equal(unreach.length, 1);
    const svc = JSON.parse(await sh('ip', '-j', 'route', 'show', 'exact', SERVICE));
    assert.equal(svc[0]?.dev, BRIDGE);
    await checkCidrs({ podCidr: CLUSTER, serviceCidr: SERVICE, bridgeName: BRIDGE });
  });

  it('gives two pods different IPs in the node range; setup is idempotent; recover finds them', async () => {
    const a = await net.setup(podA);
    const b = await net.setup(podB);
    for (const r of [a, b]) {
      assert.ok(cidrContains(NODE, r.ip), `${r.ip} not in ${NODE}`);
      assert.equal(r.gateway, NODE.replace(/\.0\/\d+$/, '.1'));
      assert.ok(existsSync(r.netnsPath));
    }
    assert.notEqual(a.ip, b.ip);
    assert.equal(a.netnsPath, `/var/run/netns/${netnsName(podA.uid, PREFIX)}`);
    const lo = await runCommand('ip', ['-n', netnsName(podA.uid, PREFIX), '-o', 'link', 'show', 'lo']);
    assert.match(lo.stdout, /<LOOPBACK,UP,LOWER_UP>/, 'lo is up in the pod');
    assert.deepEqual(await net.setup(podA), a);
    ips.a = a.ip;
    ips.b = b.ip;
    const rec = await net.recover();
    assert.deepEqual(rec.get(podA.uid), { netnsPath: a.netnsPath, ip: a.ip });
    assert.deepEqual(rec.get(podB.uid), { netnsPath: b.netnsPath, ip: b.ip });
    assert.equal(rec.size, 2);
    const conf = JSON.parse(await readFile(path.join(dataDir, 'cni', 'berth.conflist'), 'utf8'));
    assert.equal(conf.plugins[0].ipMasq, false);
    // cluster traffic outside this node's range hits the unreachable route instead of the default gateway
    const outside = NODE.replace(/^(\d+\.\d+)\.(\d+)\..*$/, (_m, ab: string, c: string) => `${ab}.${(Number(c) + 1) % 256}.9`);
    const probe = await runCommand('ip', ['route', 'get', outside]);
    assert.notEqual(probe.code, 0, `route to ${outside} should be unreachable: ${probe.stdout}`);
  });

  it('the host reaches a TCP listener in pod A, and pod B reaches pod A', async () => {
    const www = path.join(dataDir, 'www');
    await mkdir(www);
    await writeFile(path.join(www, 'hello.txt'), 'hello from pod A\n');
    // `python3 -m http.server` would reverse-resolve its bind address (getfqdn) through the host's
    // resolver, which a pod without cluster DNS cannot reach: run the same handler without that.
    const py = 'import http.server as h, socketserver as s, sys; s.TCPServer((sys.argv[1], int(sys.argv[2])), h.SimpleHTTPRequestHandler).serve_forever()';
    server = spawn('ip', ['netns', 'exec', netnsName(podA.uid, PREFIX), 'python3', '-c', py, ips.a!, String(PORT)], { cwd: www, stdio: 'ignore' });
    let body = '';
    for (let i = 0; i < 150 && !body; i++) {
      try {
        body = await (await fetch(`http://${ips.a}:${PORT}/hello.txt`, { signal: AbortSignal.timeout(1000) })).text();
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    assert.equal(body, 'hello from pod A\n');
    const fromB = await runCommand('ip', ['netns', 'exec', netnsName(podB.uid, PREFIX), 'curl', '-sS', '--max-time', '5', `http://${ips.a}:${PORT}/hello.txt`]);
    assert.equal(fromB.stdout, 'hello from pod A\n', fromB.stderr);
    const exited = new Promise((r) => server!.once('exit', r));
    server.kill('SIGKILL');
    await exited;
  });

  it('teardown removes netns, veth and IPAM allocation, and is idempotent', async () => {
    const cached = JSON.parse(await readFile(path.join(dataDir, 'cni', 'results', `berth-${podA.uid}-eth0.json`), 'utf8'));
    const hostVeth = cached.interfaces.find((i: { name: string; sandbox?: string }) => !i.sandbox && i.name !== BRIDGE).name as string;
    assert.match(await sh('ip', 'link', 'show', hostVeth), new RegExp(`master ${BRIDGE}`));
    const ipamFile = path.join(dataDir, 'cni', 'ipam', 'berth', ips.a!);
    assert.ok(existsSync(ipamFile));
    await net.teardown(podA.uid);
    await net.teardown(podA.uid);
    assert.equal(existsSync(`/var/run/netns/${netnsName(podA.uid, PREFIX)}`), false);
    assert.notEqual((await runCommand('ip', ['link', 'show', hostVeth])).code, 0, 'host veth still present');
    assert.equal(existsSync(ipamFile), false);
  });

  it('tolerates partial state and removes orphans', async () => {
    const c = await net.setup(podC);
    assert.deepEqual((await net.cleanupOrphans([podB.uid])).sort(), [podC.uid]);
    assert.equal(existsSync(c.netnsPath), false);
    await sh('ip', 'netns', 'add', `${PREFIX}stray`);
    await sh('ip', 'netns', 'del', netnsName(podB.uid, PREFIX)); // namespace lost behind the agent's back
    assert.deepEqual(await net.cleanupOrphans([]), [podB.uid, `${PREFIX}stray`]);
    assert.deepEqual((await readdir(path.join(dataDir, 'cni', 'ipam', 'berth'))).filter((f) => /^\d/.test(f)), []);
    assert.equal((await net.recover()).size, 0);
    // a pod whose namespace vanished is set up afresh
    const again = await net.setup(podB);
    assert.ok(cidrContains(NODE, again.ip));
    await net.teardown(podB.uid);
  });

  it('removing host routes and the bridge leaves no berth leftovers', async () => {
    await removeHostRoutes({ podClusterCidr: CLUSTER, serviceCidr: SERVICE, bridgeName: BRIDGE });
    await removeBridge(BRIDGE);
    await removeHostRoutes({ podClusterCidr: CLUSTER, serviceCidr: SERVICE, bridgeName: BRIDGE });
    assert.equal(JSON.parse(await sh('ip', '-j', 'route', 'show', 'type', 'unreachable', 'exact', CLUSTER)).length, 0);
    assert.deepEqual(await berthLines('netns', 'list'), netnsBefore);
    assert.deepEqual(await berthLines('link', 'show'), linksBefore);
    assert.deepEqual((await readdir(path.join(dataDir, 'cni', 'results'))), []);
  });
});
