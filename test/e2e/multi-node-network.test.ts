/**
 * End to end: the pod network, Services and DNS across nodes, on `berth lab` (a real server and
 * three real `berth join` agents in network namespaces on a private bridge, no default route) —
 * once with the host-gw backend and once with vxlan. Each node gets its pod range from the server's
 * node IPAM. A Deployment of 6 process pods and one of 6 runc pods (busybox, imported into every
 * node's image store) spread over the three nodes; every pod reaches every other pod by IP, and the
 * server sees the client's real pod address (no masquerading between pods): a full 12×12 check. A
 * Service answers from every node's pods, by name through the cluster DNS (the server's, behind the
 * kube-dns ClusterIP), and on every node's NodePort from the machine; `externalTrafficPolicy: Local`
 * answers only from the node's own pods and keeps the client address, `internalTrafficPolicy: Local`
 * only from the asking pod's node. A node killed and deleted: its routes (and, for vxlan, its
 * neighbour and FDB entries) leave the other nodes within seconds.
 * Serial (machine lock: bridges, namespaces, cgroups, nftables); needs root.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBusyboxLayout } from '../../src/agent/runtime/runc/runc.fixture.ts';
import { startLab, type TestLab } from '../../src/lab/lab.fixture.ts';
import { assertOk, parseJson } from '../support/kubectl-assert.ts';
import { waiter } from '../support/wait.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BERTH = path.join(REPO, 'bin', 'berth');
const UPSTREAM_ANSWER = '192.0.2.88';
const IMAGE = 'layout.local/busybox:v1';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function sh(cmd: string, ...args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Serves `<its own pod IP> <the client's address>` on :8080 (the body says who answered and whom it saw). */
const PROCESS_SERVER = [
  'import http.server',
  'class H(http.server.BaseHTTPRequestHandler):',
  '  def do_GET(s):',
  "    b = ('%s %s\\n' % (s.connection.getsockname()[0], s.client_address[0])).encode()",
  '    s.send_response(200); s.send_header("Content-Length", str(len(b))); s.end_headers(); s.wfile.write(b)',
  '  def log_message(s, *a): pass',
  "http.server.ThreadingHTTPServer(('0.0.0.0', 8080), H).serve_forever()",
].join('\n');
/** busybox's httpd runs a CGI that says the same (REMOTE_ADDR is the client's address); /tmp: the image's user is not root. */
const RUNC_SERVER = 'mkdir -p /tmp/w/cgi-bin && printf \'#!/bin/sh\\necho "Content-Type: text/plain"\\necho\\necho "$POD_IP $REMOTE_ADDR"\\n\' > /tmp/w/cgi-bin/who && chmod +x /tmp/w/cgi-bin/who && exec httpd -f -p 8080 -h /tmp/w';

function deployment(name: string, runtime: 'process' | 'runc'): string {
  const spread = [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: name } } }];
  const container = runtime === 'process'
    ? { name: 'web', image: 'host', command: ['python3', '-c', PROCESS_SERVER] }
    : {
      name: 'web', image: IMAGE, imagePullPolicy: 'Never', command: ['sh', '-c', RUNC_SERVER],
      env: [{ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }],
    };
  return JSON.stringify({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name },
    spec: {
      replicas: 6, selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name, tier: 'web' } },
        spec: {
          ...(runtime === 'runc' ? { runtimeClassName: 'runc' } : {}), terminationGracePeriodSeconds: 1,
          topologySpreadConstraints: spread,
          containers: [{ ...container, readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 } }],
        },
      },
    },
  });
}

interface PodView { name: string; ip: string; node: string; runtime: 'process' | 'runc' }

/** busybox's httpd listens on IPv6 and names an IPv4 client `[::ffff:a.b.c.d]`: the same address. */
const unmapped = (text: string) => text.replace(/\[::ffff:([0-9.]+)\]/g, '$1');

/** The path each kind of server answers on. */
const pathOf = (p: PodView) => (p.runtime === 'runc' ? '/cgi-bin/who' : '/');

for (const backend of ['host-gw', 'vxlan'] as const) {
  describe(`pods, Services and DNS across three nodes (${backend})`, { concurrency: false }, () => {
    const work = mkdtempSync(path.join(os.tmpdir(), `berth-e2e-mnnet-${backend}-`));
    let lab: TestLab;
    let pods: PodView[] = [];
    const k = (args: string[], input?: string) => lab.kubectl(args, input, 90_000);
    /** `kubectl exec POD -- sh -c SCRIPT`: stdout (the exit code is the script's to report). */
    const inPod = async (pod: string, script: string) => {
      const r = await k(['exec', pod, '--', 'sh', '-c', script]);
      return r.stdout + (r.code === 0 ? '' : `\n[exit ${r.code}: ${r.stderr.trim()}]`);
    };
    /** busybox for both runtimes: the host's static busybox in process pods, the image's own in runc pods. */
    const bb = (p: PodView) => (p.runtime === 'process' ? 'busybox ' : '');
    /**
     * A GET with busybox's wget, bounded by timeout(1) (this busybox's own -T crashes it). Names are
     * resolved with busybox's nslookup: the static busybox's libc resolver crashes on NSS.
     */
    const get = (p: PodView, url: string) => `timeout 10 ${bb(p)}wget -q -O - ${url}`;
    const netnsOf = (node: string) => lab.state().nodes.find((n) => n.name === node)!.netns;
    const waitFor = waiter({
      context: () => `${lab ? lab.state().nodes.map((n) => `--- ${n.name}\n${lab.logTail(n.name, 12)}`).join('\n') : ''}\n--- server\n${lab?.logTail('server', 12)}`,
    });

    before(async () => {
      assert.equal(process.getuid?.(), 0, 'a lab needs root');
      const layout = await buildBusyboxLayout(path.join(work, 'image'));
      lab = await startLab({ nodes: 3, backend, upstreamNames: { 'upstream.test': UPSTREAM_ANSWER } });
      console.log(`# ${backend}: lab up --nodes 3 in ${(lab.upMs / 1000).toFixed(1)} s`);
      for (const n of lab.state().nodes) execFileSync(BERTH, ['image', 'import', '--agent-data-dir', n.dataDir, '--repository', 'layout.local/busybox', layout], { stdio: 'ignore' });
    });

    after(async () => {
      await lab?.down();
      rmSync(work, { recursive: true, force: true });
    });

    test('each node has a distinct pod range from node IPAM and routes to the others’ through the backend', async () => {
      const nodes = parseJson<any>(assertOk(await k(['get', 'nodes', '-o', 'json']), 'nodes'), 'nodes').items;
      const ranges = nodes.map((n: any) => n.spec.podCIDR);
      assert.equal(new Set(ranges).size, 3, ranges.join(' '));
      for (const n of nodes) {
        assert.match(n.spec.podCIDR, /^10\.244\.\d+\.0\/24$/);
        assert.deepEqual(n.spec.podCIDRs, [n.spec.podCIDR]);
        assert.equal(n.metadata.annotations['berth.dev/network-backend'], backend);
        if (backend === 'vxlan') assert.match(n.metadata.annotations['berth.dev/vxlan-mac'], /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
      }
      for (const n of nodes) {
        const routes = JSON.parse(sh('ip', '-n', netnsOf(n.metadata.name), '-j', 'route', 'show', 'proto', '66')) as { dst: string; gateway: string; dev: string }[];
        const others = nodes.filter((o: any) => o !== n);
        assert.deepEqual(routes.map((r) => r.dst).sort(), others.map((o: any) => o.spec.podCIDR).sort(), `${n.metadata.name}: ${JSON.stringify(routes)}`);
        for (const o of others) {
          const r = routes.find((x) => x.dst === o.spec.podCIDR)!;
          const ip = o.status.addresses.find((a: any) => a.type === 'InternalIP').address;
          // host-gw: the node itself is the next hop; vxlan: its VTEP (the range's first address) on the device.
          if (backend === 'host-gw') assert.equal(r.gateway, ip);
          else assert.equal(r.gateway, o.spec.podCIDR.split('/')[0]);
        }
      }
    });

    test('6 process and 6 runc pods spread over the three nodes', async () => {
      assertOk(await k(['apply', '-f', '-'], deployment('web-p', 'process')), 'process deployment');
      assertOk(await k(['apply', '-f', '-'], deployment('web-r', 'runc')), 'runc deployment');
      for (const d of ['web-p', 'web-r']) {
        const r = await k(['rollout', 'status', `deployment/${d}`, '--timeout=150s']);
        if (r.code !== 0) throw new Error(`${d} not available: ${r.stderr}\n${(await k(['get', 'pods', '-o', 'wide'])).stdout}\n${(await k(['describe', 'pods', '-l', `app=${d}`])).stdout.slice(-3000)}`);
      }
      const list = parseJson<any>(assertOk(await k(['get', 'pods', '-l', 'tier=web', '-o', 'json']), 'pods'), 'pods').items
        .filter((p: any) => !p.metadata.deletionTimestamp && p.status.podIP);
      pods = list.map((p: any) => ({ name: p.metadata.name, ip: p.status.podIP, node: p.spec.nodeName, runtime: p.spec.runtimeClassName === 'runc' ? 'runc' : 'process' }));
      assert.equal(pods.length, 12);
      for (const rt of ['process', 'runc']) {
        const perNode = new Map<string, number>();
        for (const p of pods.filter((x) => x.runtime === rt)) perNode.set(p.node, (perNode.get(p.node) ?? 0) + 1);
        assert.deepEqual([...perNode.values()], [2, 2, 2], `${rt}: ${JSON.stringify([...perNode])}`);
      }
      // Each pod's address lies in its node's range.
      const ranges = new Map<string, string>(parseJson<any>(assertOk(await k(['get', 'nodes', '-o', 'json']), 'nodes'), 'nodes').items.map((n: any) => [n.metadata.name, n.spec.podCIDR]));
      for (const p of pods) assert.ok(p.ip.startsWith(ranges.get(p.node)!.split('.').slice(0, 3).join('.') + '.'), `${p.name} ${p.ip} on ${p.node} (${ranges.get(p.node)})`);
    });

    test('every pod reaches every other pod by IP and is seen with its own address (12×12)', async () => {
      const failures: string[] = [];
      let checked = 0;
      await Promise.all(pods.map(async (from) => {
        const script = pods.map((to) => `echo "${to.ip} $(${get(from, `http://${to.ip}:8080${pathOf(to)}`)} 2>&1 | tr -d '\\n')"`).join('; ');
        const out = unmapped(await inPod(from.name, script));
        for (const to of pods) {
          checked++;
          const line = out.split('\n').find((l) => l.startsWith(`${to.ip} `));
          // The answer names the server's pod IP and the client address it saw: the client's own pod
          // IP, or (a pod reaching itself by its address) the same.
          if (line !== `${to.ip} ${to.ip} ${from.ip}`) failures.push(`${from.name} (${from.node}, ${from.runtime}) → ${to.name} (${to.node}, ${to.runtime}): ${line ?? out.slice(0, 300)}`);
        }
      }));
      assert.equal(checked, 144);
      assert.deepEqual(failures, []);
    });

    test('a Service answers by name from every node’s pods (cluster DNS through kube-dns); upstream names resolve', async () => {
      assertOk(await k(['apply', '-f', '-'], JSON.stringify({
        apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' },
        spec: { type: 'NodePort', selector: { app: 'web-p' }, ports: [{ port: 80, targetPort: 8080 }] },
      })), 'service web');
      const svc = parseJson<any>(assertOk(await k(['get', 'svc', 'web', '-o', 'json']), 'svc'), 'svc');
      const kubeDns = assertOk(await k(['get', 'svc', '-n', 'kube-system', 'kube-dns', '-o', 'jsonpath={.spec.clusterIP}']), 'kube-dns').trim();
      const processIPs = new Set(pods.filter((p) => p.runtime === 'process').map((p) => p.ip));
      for (const node of ['node-1', 'node-2', 'node-3']) {
        for (const from of pods.filter((p) => p.node === node)) {
          // The name through the pod's resolv.conf (search list) — busybox's nslookup asks the kube-dns ClusterIP.
          const dns = await waitFor(`DNS from ${from.name}`, async () => {
            const out = await inPod(from.name, `${bb(from)}nslookup web.default.svc.cluster.local ${kubeDns}; ${bb(from)}nslookup upstream.test ${kubeDns}`);
            return out.includes(svc.spec.clusterIP) && out.includes(UPSTREAM_ANSWER) && out;
          }, 30_000);
          assert.match(dns, new RegExp(`Address:?\\s+${svc.spec.clusterIP.replace(/\./g, '\\.')}`));
          const seen = new Set<string>();
          // The name as the pod's resolv.conf resolves it, then the Service's ClusterIP 8 times.
          const resolve = `${bb(from)}nslookup web.default.svc.cluster.local | sed -n 's/^Address:[[:space:]]*\\([0-9.]*\\)$/\\1/p' | tail -1`;
          const raw = await inPod(from.name, `ip=$(${resolve}); echo "resolved $ip"; for i in 1 2 3 4 5 6 7 8; do ${get(from, 'http://$ip/')}; done`);
          const [first, ...rest] = raw.trim().split('\n');
          assert.equal(first, `resolved ${svc.spec.clusterIP}`, raw);
          const out = rest.join('\n');
          for (const line of out.trim().split('\n')) {
            const [server] = line.split(' ');
            assert.ok(processIPs.has(server!), `${from.name}: answer ${JSON.stringify(line)} from a web-p pod\n${out}`);
            seen.add(server!);
          }
          assert.equal(out.trim().split('\n').length, 8, out);
        }
      }
      // Process pods resolve through libc with the search list, too.
      const p = pods.find((x) => x.runtime === 'process')!;
      assert.match(await inPod(p.name, 'getent hosts web'), new RegExp(`^${svc.spec.clusterIP.replace(/\./g, '\\.')}\\s`));
    });

    test('every node’s NodePort answers from the machine, with endpoints on every node', async () => {
      const port = assertOk(await k(['get', 'svc', 'web', '-o', 'jsonpath={.spec.ports[0].nodePort}']), 'nodePort').trim();
      const nodesSeen = new Map<string, Set<string>>();
      const byIP = new Map(pods.map((p) => [p.ip, p]));
      for (const n of lab.state().nodes) {
        const seen = new Set<string>();
        for (let i = 0; i < 12; i++) {
          const body = sh('curl', '-s', '-m', '5', `http://${n.address}:${port}/`).trim();
          const server = byIP.get(body.split(' ')[0]!);
          assert.ok(server?.runtime === 'process', `${n.name}:${port} → ${JSON.stringify(body)}`);
          seen.add(server.node);
        }
        nodesSeen.set(n.name, seen);
      }
      // Random balancing over 6 endpoints on 3 nodes: 12 tries reach another node's pod with near certainty.
      for (const [node, seen] of nodesSeen) assert.ok([...seen].some((x) => x !== node), `${node}'s NodePort only reached ${[...seen]}`);
    });

    test('externalTrafficPolicy: Local answers only from the node’s own pods and keeps the client address; internalTrafficPolicy: Local only from the asking pod’s node', async () => {
      assertOk(await k(['apply', '-f', '-'], JSON.stringify({
        apiVersion: 'v1', kind: 'Service', metadata: { name: 'web-local' },
        spec: { type: 'NodePort', externalTrafficPolicy: 'Local', internalTrafficPolicy: 'Local', selector: { app: 'web-p' }, ports: [{ port: 80, targetPort: 8080 }] },
      })), 'service web-local');
      const svc = parseJson<any>(assertOk(await k(['get', 'svc', 'web-local', '-o', 'json']), 'svc'), 'svc');
      const port = svc.spec.ports[0].nodePort;
      const byIP = new Map(pods.map((p) => [p.ip, p]));
      const server = lab.state().serverAddress;
      for (const n of lab.state().nodes) {
        const body = await waitFor(`${n.name}:${port} answering`, async () => sh('curl', '-s', '-m', '3', `http://${n.address}:${port}/`).trim());
        for (let i = 0; i < 8; i++) {
          const line = i === 0 ? body : sh('curl', '-s', '-m', '5', `http://${n.address}:${port}/`).trim();
          const [ip, client] = line.split(' ');
          assert.equal(byIP.get(ip!)?.node, n.name, `${n.name}:${port} answered from ${line}`);
          assert.equal(client, server, 'the client address is kept (no masquerading with policy Local)');
        }
      }
      for (const from of pods.filter((p) => p.runtime === 'runc')) {
        const out = await inPod(from.name, `for i in 1 2 3 4 5 6; do ${get(from, `http://${svc.spec.clusterIP}/`)}; done`);
        for (const line of out.trim().split('\n')) assert.equal(byIP.get(line.split(' ')[0]!)?.node, from.node, `${from.name} on ${from.node}: ${line}\n${out}`);
      }
    });

    test('a node killed and deleted: its routes and entries leave the other nodes within seconds', async () => {
      const n3 = lab.state().nodes.find((n) => n.name === 'node-3')!;
      const range = assertOk(await k(['get', 'node', 'node-3', '-o', 'jsonpath={.spec.podCIDR}']), 'range').trim();
      const mac = backend === 'vxlan' ? assertOk(await k(['get', 'node', 'node-3', '-o', 'jsonpath={.metadata.annotations.berth\\.dev/vxlan-mac}']), 'mac').trim() : '';
      const present = (netns: string) => {
        const routes = sh('ip', '-n', netns, 'route', 'show', 'proto', '66');
        const fdb = backend === 'vxlan' ? sh('nsenter', `--net=/run/netns/${netns}`, 'bridge', 'fdb', 'show') : '';
        const neigh = backend === 'vxlan' ? sh('ip', '-n', netns, 'neigh', 'show', 'nud', 'permanent') : '';
        return routes.includes(range) || (mac !== '' && (fdb.includes(mac) || neigh.includes(mac)));
      };
      const others = lab.state().nodes.filter((n) => n.name !== 'node-3');
      for (const n of others) assert.ok(present(n.netns), `${n.name} routes to node-3 first`);
      await lab.run(['kill', 'node-3']);
      const t0 = performance.now();
      assertOk(await k(['delete', 'node', 'node-3', '--wait=false']), 'delete node-3');
      for (const n of others) await waitFor(`node-3's entries gone on ${n.name}`, async () => !present(n.netns), 10_000);
      const ms = performance.now() - t0;
      console.log(`# ${backend}: node-3's routes${backend === 'vxlan' ? ', neighbours and FDB entries' : ''} gone from the other nodes ${Math.round(ms)} ms after the delete`);
      assert.ok(ms < 5000, `${ms} ms`);
      // Pods on the two remaining nodes still reach each other.
      const a = pods.find((p) => p.node === 'node-1' && p.runtime === 'process')!;
      const b = pods.find((p) => p.node === 'node-2' && p.runtime === 'runc')!;
      assert.equal(unmapped(await inPod(a.name, get(a, `http://${b.ip}:8080/cgi-bin/who`))).trim(), `${b.ip} ${a.ip}`);
      void n3;
    });
  });
}
