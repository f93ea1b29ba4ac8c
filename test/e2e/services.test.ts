/**
 * End to end: Services and cluster DNS on `bin/berth up` — ClusterIP and NodePort allocation, the
 * EndpointSlice controller, the nftables service proxy and the embedded DNS server, through real
 * kubectl, real nftables and process pods that use curl and dig from the host. Needs root.
 *
 * Networks: pods 10.52.0.0/24, services 10.53.0.0/16, bridge `berthsvc0`, all removed at the end.
 * DNS: the cluster DNS forwards to a dnsmasq this suite starts on loopback; nothing here queries
 * the machine's own resolvers.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { startBerth, freePort, type BerthServer } from '../support/berth-server.ts';
import { assertOk, parseJson } from '../support/kubectl-assert.ts';
import { waiter } from '../support/wait.ts';

const CLUSTER_CIDR = '10.52.0.0/16';
const POD_CIDR = '10.52.0.0/24';
const SERVICE_CIDR = '10.53.0.0/16';
const BRIDGE = 'berthsvc0';
const PROXY_TABLE = `berth-proxy-${BRIDGE}`;
const DNS_IP = '10.53.0.10';
const UPSTREAM_ANSWER = '198.51.100.7';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A web server process pod template: answers every path with its pod name. */
function webDeployment(name: string, replicas: number, extra: { readiness?: string } = {}): string {
  const probe = extra.readiness ? { readinessProbe: { exec: { command: ['sh', '-c', extra.readiness] }, periodSeconds: 1, failureThreshold: 1 } } : {};
  return JSON.stringify({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name },
    spec: {
      replicas, selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: 1,
          volumes: [{ name: 'www', emptyDir: {} }],
          containers: [{
            name: 'web', image: 'host',
            command: ['sh', '-c', 'echo "$POD_NAME" > /www/index.html && exec busybox httpd -f -p 8080 -h /www'],
            env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
            ports: [{ name: 'http', containerPort: 8080 }],
            volumeMounts: [{ name: 'www', mountPath: '/www' }],
            ...probe,
          }],
        },
      },
    },
  });
}

function service(name: string, spec: Record<string, unknown>): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec });
}

describe('Services and cluster DNS with berth up', { concurrency: false }, () => {
  let b: BerthServer;
  let dnsmasq: ChildProcess | undefined;
  const k = async (args: string[], input?: string) => b.kubectl(args, { input, timeoutMs: 60_000 });
  /** Runs a shell command in the `client` pod; returns stdout (exit code ignored unless `check`). */
  const inClient = async (script: string) => (await k(['exec', 'client', '--', 'sh', '-c', script])).stdout.trim();

  const waitFor = waiter({ context: () => b.logs().slice(-3000) });
  const allEndpoints = async (svc: string) => {
    const slices = parseJson<any>(assertOk(await k(['get', 'endpointslices', '-l', `kubernetes.io/service-name=${svc}`, '-o', 'json']), 'slices'), 'slices');
    return slices.items.flatMap((s: any) => s.endpoints ?? []).length;
  };
  const readyEndpoints = async (svc: string) => {
    const slices = parseJson<any>(assertOk(await k(['get', 'endpointslices', '-l', `kubernetes.io/service-name=${svc}`, '-o', 'json']), 'slices'), 'slices');
    return slices.items.flatMap((s: any) => (s.endpoints ?? []).filter((e: any) => e.conditions?.ready).map((e: any) => e.addresses[0]));
  };

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'the services tests need root (nftables, network namespaces)');
    const upstreamPort = await freePort();
    dnsmasq = spawn('/usr/sbin/dnsmasq', ['--keep-in-foreground', '--user=root', `--port=${upstreamPort}`, '--listen-address=127.0.0.1', '--bind-interfaces',
      '--no-resolv', '--no-hosts', '--pid-file=', `--address=/upstream.test/${UPSTREAM_ANSWER}`], { stdio: 'ignore' });
    b = await startBerth({
      command: 'up',
      extraArgs: ['--cluster-cidr', CLUSTER_CIDR, '--pod-cidr', POD_CIDR, '--service-cidr', SERVICE_CIDR, '--bridge', BRIDGE,
        '--node-name', 'svc-node', '--dns-upstream', `127.0.0.1:${upstreamPort}`],
    });
    await waitFor('node Ready', async () => (await k(['get', 'node', 'svc-node'])).stdout.includes(' Ready'));
    assertOk(await k(['run', 'client', '--image=host', '--restart=Never', '--command', '--', 'sleep', '3600']), 'client pod');
    assertOk(await k(['wait', '--for=condition=Ready', 'pod/client', '--timeout=60s']), 'client ready');
  });

  after(async () => {
    if (b) {
      await k(['delete', 'deployments,pods,services', '--all', '--grace-period=1', '--wait=true']).catch(() => {});
      await b.cleanup();
    }
    dnsmasq?.kill();
    for (const cmd of [['ip', 'link', 'del', BRIDGE], ['ip', 'route', 'del', 'unreachable', CLUSTER_CIDR], ['ip', 'route', 'del', SERVICE_CIDR],
      ['nft', 'delete', 'table', 'inet', `berth-egress-${BRIDGE}`], ['nft', 'delete', 'table', 'ip', PROXY_TABLE]]) {
      try { execFileSync(cmd[0]!, cmd.slice(1), { stdio: 'ignore' }); } catch { /* not there */ }
    }
  });

  test('pods resolve the cluster DNS through kube-dns, with the Kubernetes search list', async () => {
    const svc = parseJson<any>(assertOk(await k(['get', 'service', '-n', 'kube-system', 'kube-dns', '-o', 'json']), 'kube-dns'), 'kube-dns');
    assert.equal(svc.spec.clusterIP, DNS_IP);
    const resolv = await inClient('cat /etc/resolv.conf');
    assert.match(resolv, new RegExp(`nameserver ${DNS_IP.replace(/\./g, '\\.')}`));
    assert.match(resolv, /search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local/);
    assert.match(resolv, /options ndots:5/);
    assert.equal(await inClient('dig +short +time=2 +tries=1 kube-dns.kube-system.svc.cluster.local'), DNS_IP);
    assert.equal(await inClient('dig +short +time=2 +tries=1 upstream.test'), UPSTREAM_ANSWER, 'forwarded to the loopback upstream');
    assert.match(await inClient('dig +time=2 +tries=1 nope.default.svc.cluster.local'), /status: NXDOMAIN/);
  });

  test('a Deployment behind a ClusterIP Service: by short and full name, spread over pods, refused at once with no endpoints', async () => {
    assertOk(await k(['apply', '-f', '-'], webDeployment('web', 3)), 'web deployment');
    assertOk(await k(['apply', '-f', '-'], service('web', { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] })), 'web service');
    const svc = parseJson<any>(assertOk(await k(['get', 'service', 'web', '-o', 'json']), 'get svc'), 'svc');
    assert.match(svc.spec.clusterIP, /^10\.53\./);
    await waitFor('3 ready endpoints', async () => (await readyEndpoints('web')).length === 3);
    const eps = assertOk(await k(['get', 'endpoints', 'web']), 'get endpoints');
    assert.match(eps, /:8080/);
    assert.match(await inClient('curl -s --max-time 5 http://web/'), /^web-/);
    assert.match(await inClient('curl -s --max-time 5 http://web.default.svc.cluster.local/'), /^web-/);
    const answers = (await inClient('for i in $(seq 30); do curl -s --max-time 3 http://web/; done')).split('\n').filter(Boolean);
    assert.equal(answers.length, 30);
    assert.ok(new Set(answers).size >= 2, `30 requests reached ${new Set(answers).size} pod(s)`);

    assertOk(await k(['scale', 'deployment/web', '--replicas=0']), 'scale to 0');
    // Terminating pods stay in the slice (serving) until they are gone, as in Kubernetes.
    await waitFor('no endpoints', async () => (await allEndpoints('web')) === 0);
    const refused = await inClient('curl -s -o /dev/null -w "%{time_total}" --max-time 5 http://web/; echo " rc=$?"');
    const [secs, rc] = refused.split(' ');
    assert.equal(rc, 'rc=7', `curl should fail to connect (refused), got ${refused}`);
    assert.ok(Number(secs) < 1, `refused in ${secs} s`);

    assertOk(await k(['scale', 'deployment/web', '--replicas=3']), 'scale back');
    await waitFor('3 ready endpoints again', async () => (await readyEndpoints('web')).length === 3);
    assert.match(await inClient('curl -s --max-time 5 http://web/'), /^web-/);
  });

  test('NodePort answers from the host on 127.0.0.1', async () => {
    assertOk(await k(['apply', '-f', '-'], service('web-np', { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] })), 'nodeport svc');
    const np = parseJson<any>(assertOk(await k(['get', 'service', 'web-np', '-o', 'json']), 'svc'), 'svc').spec.ports[0].nodePort;
    assert.ok(np >= 30000 && np <= 32767);
    const body = await waitFor('nodeport answer', async () => {
      const res = await fetch(`http://127.0.0.1:${np}/`, { signal: AbortSignal.timeout(3000) });
      return res.ok && (await res.text()).trim();
    }, 20_000);
    assert.match(body, /^web-/);
  });

  test('headless Services resolve to pod IPs; hostname + subdomain pods by their own name; SRV for named ports', async () => {
    assertOk(await k(['apply', '-f', '-'], service('web-headless', { clusterIP: 'None', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] })), 'headless');
    const podIps = (parseJson<any>(assertOk(await k(['get', 'pods', '-l', 'app=web', '-o', 'json']), 'pods'), 'pods').items as any[])
      .filter((p) => !p.metadata.deletionTimestamp).map((p) => p.status.podIP).sort();
    const ips = await waitFor('headless A records', async () => {
      const got = (await inClient('dig +short +time=2 +tries=1 web-headless.default.svc.cluster.local')).split('\n').filter(Boolean).sort();
      return got.length === 3 && got;
    });
    assert.deepEqual(ips, podIps);
    const srv = await inClient('dig +short +time=2 +tries=1 SRV _http._tcp.web.default.svc.cluster.local');
    assert.match(srv, / 80 web\.default\.svc\.cluster\.local\.$/m);

    assertOk(await k(['apply', '-f', '-'], service('db', { clusterIP: 'None', selector: { app: 'db' }, ports: [{ name: 'pg', port: 5432 }] })), 'db svc');
    assertOk(await k(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'db-0', labels: { app: 'db' } },
      spec: { hostname: 'db-0', subdomain: 'db', terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'host', command: ['sleep', '3600'] }] },
    })), 'db-0 pod');
    assertOk(await k(['wait', '--for=condition=Ready', 'pod/db-0', '--timeout=60s']), 'db-0 ready');
    const dbIp = parseJson<any>(assertOk(await k(['get', 'pod', 'db-0', '-o', 'json']), 'db-0'), 'db-0').status.podIP;
    assert.equal(await waitFor('db-0 name', async () => (await inClient('dig +short +time=2 +tries=1 db-0.db.default.svc.cluster.local')) || false), dbIp);
    // The pod's own hostname resolves inside it (its /etc/hosts has the FQDN).
    assert.match((await k(['exec', 'db-0', '--', 'cat', '/etc/hosts'])).stdout, /db-0\.db\.default\.svc\.cluster\.local/);
  });

  test('a not-ready pod receives no traffic until its readiness probe passes', async () => {
    assertOk(await k(['apply', '-f', '-'], webDeployment('gate', 1, { readiness: 'test -f /www/ready' })), 'gate deployment');
    assertOk(await k(['apply', '-f', '-'], service('gate', { selector: { app: 'gate' }, ports: [{ port: 80, targetPort: 8080 }] })), 'gate svc');
    const pod = await waitFor('gate pod running', async () => {
      const pods = parseJson<any>(assertOk(await k(['get', 'pods', '-l', 'app=gate', '-o', 'json']), 'pods'), 'pods').items;
      return pods[0]?.status?.phase === 'Running' && pods[0].metadata.name as string;
    });
    await sleep(1500);
    assert.equal((await readyEndpoints('gate')).length, 0);
    assert.match(await inClient('curl -s --max-time 3 http://gate/; echo rc=$?'), /rc=7/);
    assertOk(await k(['exec', pod, '--', 'touch', '/www/ready']), 'make ready');
    await waitFor('gate ready endpoint', async () => (await readyEndpoints('gate')).length === 1);
    assert.equal(await waitFor('gate answers', async () => (await inClient('curl -s --max-time 3 http://gate/')) || false), pod);
  });

  test('bad input: a ClusterIP outside the range or taken, a duplicate or out-of-range NodePort — each a clear 422', async () => {
    const outside = await k(['create', '-f', '-'], service('bad1', { clusterIP: '10.99.0.1', ports: [{ port: 80 }] }));
    assert.notEqual(outside.code, 0);
    assert.match(outside.stderr, /is invalid: spec\.clusterIPs: Invalid value: \[\]string\{"10\.99\.0\.1"\}: failed to allocate IP 10\.99\.0\.1: the provided IP \(10\.99\.0\.1\) is not in the valid range\. The range of valid IPs is 10\.53\.0\.0\/16/);
    const taken = await k(['create', '-f', '-'], service('bad2', { clusterIP: DNS_IP, ports: [{ port: 80 }] }));
    assert.match(taken.stderr, /provided IP is already allocated/);
    const np = parseJson<any>(assertOk(await k(['get', 'service', 'web-np', '-o', 'json']), 'svc'), 'svc').spec.ports[0].nodePort;
    const dup = await k(['create', '-f', '-'], service('bad3', { type: 'NodePort', ports: [{ port: 80, nodePort: np }] }));
    assert.match(dup.stderr, new RegExp(`spec\\.ports\\[0\\]\\.nodePort: Invalid value: ${np}: provided port is already allocated`));
    const range = await k(['create', '-f', '-'], service('bad4', { type: 'NodePort', ports: [{ port: 80, nodePort: 80 }] }));
    assert.match(range.stderr, /provided port is not in the valid range\. The range of valid ports is 30000-32767/);
    assert.doesNotMatch(assertOk(await k(['get', 'services']), 'get'), /bad[1-4]/, 'nothing half-written');
  });

  test('deleting a Service removes its rules at once; restarting berth up keeps Services routed; a clean stop removes the proxy table', async () => {
    const ip = parseJson<any>(assertOk(await k(['get', 'service', 'web', '-o', 'json']), 'svc'), 'svc').spec.clusterIP;
    assert.match(execFileSync('nft', ['list', 'table', 'ip', PROXY_TABLE]).toString(), new RegExp(ip.replace(/\./g, '\\.')));
    assertOk(await k(['delete', 'service', 'web']), 'delete web');
    await waitFor('rules gone', async () => !execFileSync('nft', ['list', 'table', 'ip', PROXY_TABLE]).toString().includes(ip), 2000);
    assert.match(await inClient(`curl -s --max-time 3 http://${ip}/; echo rc=$?`), /rc=7/, 'an unallocated service IP is rejected locally');

    await b.restart();
    await waitFor('node Ready after restart', async () => (await k(['get', 'node', 'svc-node'])).stdout.includes(' Ready'));
    const np = parseJson<any>(assertOk(await k(['get', 'service', 'web-np', '-o', 'json']), 'svc'), 'svc').spec.ports[0].nodePort;
    const res = await fetch(`http://127.0.0.1:${np}/`, { signal: AbortSignal.timeout(3000) });
    assert.match((await res.text()).trim(), /^web-/, 'routed after the restart');

    await b.stop();
    const tables = execFileSync('nft', ['list', 'tables']).toString();
    assert.doesNotMatch(tables, new RegExp(PROXY_TABLE), `no proxy table after a clean stop; berth's last words:\n${b.logs().slice(-3000)}`);
    await b.restart();
    await waitFor('routed again', async () => {
      const r = await fetch(`http://127.0.0.1:${np}/`, { signal: AbortSignal.timeout(3000) });
      return r.ok;
    }, 20_000);
  });
});
