/**
 * End to end: resource metrics and Prometheus metrics on `bin/berth up`, with real kubectl —
 * `kubectl top nodes|pods [--containers]` from metrics.k8s.io (aggregated from the agent's sampler),
 * a CPU-burning process pod ranking first, the HorizontalPodAutoscaler scaling a Deployment of
 * CPU-burning pods up to its limit and back down with events, and `/metrics` of the server and of
 * the agent (through the node proxy) parsed by a strict Prometheus text-format parser, and observed
 * connections of host-network pods named by pod in the UI's /ui/connections. Needs root.
 *
 * Networks: pods 10.74.0.0/24, services 10.75.0.0/16, bridge `berthmet0`, all removed at the end.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { startBerth, type BerthServer } from '../support/berth-server.ts';
import { findKubectl } from '../support/kubectl.ts';
import { assertOk, parseJson } from '../support/kubectl-assert.ts';
import { waiter } from '../support/wait.ts';
import { family, parsePromText, type PromFamily } from './prom-text.fixture.ts';

const CLUSTER_CIDR = '10.74.0.0/16';
const POD_CIDR = '10.74.0.0/24';
const SERVICE_CIDR = '10.75.0.0/16';
const BRIDGE = 'berthmet0';
const NODE = 'metrics-node';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A process pod that burns CPU while /tmp/<name>.stop is absent (the test stops the load by creating it). */
function burner(stopFile: string): string[] {
  return ['sh', '-c', `while [ ! -e ${stopFile} ]; do :; done; exec sleep 3600`];
}

describe('resource metrics, HPA and Prometheus metrics with berth up', { concurrency: false }, () => {
  let b: BerthServer;
  const k = async (args: string[], input?: string) => b.kubectl(args, { input, timeoutMs: 60_000 });

  const waitFor = waiter({ context: () => b.logs().slice(-3000), everyMs: 1000 });

  before(async () => {
    rmSync('/tmp/berth-metrics-hog.stop', { force: true });
    rmSync('/tmp/berth-metrics-burn.stop', { force: true });
    assert.equal(process.getuid?.(), 0, 'the metrics tests need root (cgroups, network namespaces)');
    b = await startBerth({
      command: 'up',
      extraArgs: ['--cluster-cidr', CLUSTER_CIDR, '--pod-cidr', POD_CIDR, '--service-cidr', SERVICE_CIDR, '--bridge', BRIDGE, '--node-name', NODE, '--dns-upstream', '127.0.0.1:9'],
    });
    await waitFor('node Ready', async () => (await k(['get', 'node', NODE])).stdout.includes(' Ready'));
    // A pod that lives through the whole suite, for the agent's endpoints.
    assertOk(await k(['run', 'probe', '--image=host', '--restart=Never', '--command', '--', 'sleep', '3600']), 'probe pod');
  });

  after(async () => {
    if (b) {
      await k(['delete', 'hpa,deployments,pods', '--all', '--grace-period=1', '--wait=true']).catch(() => {});
      await b.cleanup();
    }
    rmSync('/tmp/berth-metrics-hog.stop', { force: true });
    rmSync('/tmp/berth-metrics-burn.stop', { force: true });
    for (const cmd of [['ip', 'link', 'del', BRIDGE], ['ip', 'route', 'del', 'unreachable', CLUSTER_CIDR], ['ip', 'route', 'del', SERVICE_CIDR],
      ['nft', 'delete', 'table', 'inet', `berth-egress-${BRIDGE}`], ['nft', 'delete', 'table', 'ip', `berth-proxy-${BRIDGE}`]]) {
      try { execFileSync(cmd[0]!, cmd.slice(1), { stdio: 'ignore' }); } catch { /* not there */ }
    }
  });

  // The HPA case is in three parts, so that its waits on the controller's 15 s syncs and the
  // agent's 10 s samples overlap other cases: made first, it scales up while the connection and
  // /metrics cases run; its load stops before the `kubectl top` case (whose hog must rank first:
  // no burner competes with it), and the scale-down is checked after that.
  let hpaMadeAt = 0;
  let loadStoppedAt = 0;
  const cond = (h: any, t: string) => h.status.conditions?.find((c: any) => c.type === t);

  test('an HPA (kubectl autoscale) on a Deployment of CPU-burning pods: autoscaling/v2, its scale-down behavior set and defaulted as upstream', async () => {
    // Each pod burns up to its 200m limit against a 100m request (200 %) until the stop file exists.
    assertOk(await k(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'burn' },
      spec: {
        replicas: 1, selector: { matchLabels: { app: 'burn' } },
        template: {
          metadata: { labels: { app: 'burn' } },
          spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'burn', image: 'host', command: burner('/tmp/berth-metrics-burn.stop'), resources: { requests: { cpu: '100m' }, limits: { cpu: '200m' } } }] },
        },
      },
    })), 'burn deployment');
    assertOk(await k(['autoscale', 'deployment', 'burn', '--cpu-percent=50', '--min=1', '--max=3']), 'kubectl autoscale');
    const hpa = parseJson<any>(assertOk(await k(['get', 'hpa', 'burn', '-o', 'json']), 'get hpa'), 'hpa');
    assert.equal(hpa.apiVersion, 'autoscaling/v2');
    assert.deepEqual(hpa.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }]);
    // A short scale-down window through the HPA's own behavior (the default is 300 s).
    assertOk(await k(['patch', 'hpa', 'burn', '--type=merge', '-p', JSON.stringify({ spec: { behavior: { scaleDown: { stabilizationWindowSeconds: 5 } } } })]), 'patch behavior');
    const patched = parseJson<any>(assertOk(await k(['get', 'hpa', 'burn', '-o', 'json']), 'get hpa'), 'hpa');
    assert.deepEqual(patched.spec.behavior.scaleDown, { stabilizationWindowSeconds: 5, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] }, 'scale-down rules defaulted as upstream');
    assert.equal(patched.spec.behavior.scaleUp.policies.length, 2);
    hpaMadeAt = Date.now();
  });

  test('observed connections of host-network pods: a pod calling a host-network server, and a host-network client holding a connection to a pod, are named by pod (/ui/connections)', async () => {
    const pod = (name: string, command: string[], hostNetwork = false) => ({
      apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { suite: 'traffic' } },
      spec: { terminationGracePeriodSeconds: 1, ...(hostNetwork ? { hostNetwork: true } : {}), containers: [{ name, image: 'host', command }] },
    });
    const py = (code: string) => ['/usr/bin/python3', '-c', code];
    // The server in the pod's own namespace and the host-network one both answer HTTP.
    assertOk(await k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [
      pod('tsrv', ['/usr/bin/python3', '-m', 'http.server', '8080']),
      pod('hostweb', ['/usr/bin/python3', '-m', 'http.server', '18089', '--bind', '0.0.0.0'], true),
    ] })), 'servers');
    assertOk(await k(['wait', '--for=condition=Ready', 'pod/tsrv', 'pod/hostweb', '--timeout=60s']), 'servers ready');
    const tsrvIp = assertOk(await k(['get', 'pod', 'tsrv', '-o', 'jsonpath={.status.podIP}']), 'tsrv ip').trim();
    // The node's address on the pod bridge: where a pod reaches a host-network server.
    const gateway = POD_CIDR.replace(/\.0\/24$/, '.1');
    assertOk(await k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [
      pod('tcaller', py(`import time, urllib.request\nwhile True:\n  try: urllib.request.urlopen('http://${gateway}:18089/', timeout=2).read()\n  except Exception as e: print(e, flush=True)\n  time.sleep(1)`)),
      pod('hostcaller', py(`import socket, time\ns = socket.create_connection(('${tsrvIp}', 8080))\ntime.sleep(3600)`), true),
    ] })), 'clients');
    const started = Date.now();
    const named = (e: any) => e.kind === 'Pod' ? e.name : e.kind === 'Node' ? `node:${e.name}` : e.ip;
    const edges = await waitFor('both host-network edges in /ui/connections', async () => {
      const r = await b.request('GET', '/ui/connections');
      if (r.status !== 200) return undefined;
      const list = (JSON.parse(r.body.toString('utf8')).connections as any[]).map((c) => `${named(c.from)} -> ${named(c.to)}:${c.port}`);
      return list.includes('tcaller -> hostweb:18089') && list.includes('hostcaller -> tsrv:8080') ? list : undefined;
    }, 60_000, 2000);
    console.log(`host-network edges after ${((Date.now() - started) / 1000).toFixed(1)} s: ${JSON.stringify(edges)}`);
    assertOk(await k(['delete', 'pods', '-l', 'suite=traffic', '--grace-period=1']), 'delete traffic pods');
  });

  test('/metrics of the server and of the agent (through the node proxy) parse and hold the expected families', async () => {
    // A watch open while scraping: kubectl's, over HTTP (berth up's own controllers watch in-process).
    const watcher = spawn(await findKubectl(), ['--kubeconfig', b.kubeconfig, 'get', 'pods', '--watch'], { stdio: 'ignore' });
    // Scraped once the watch is counted (not after a fixed 3 s): the checks below then hold on that scrape.
    const watching = (r: { body: Buffer }) => parsePromText(r.body.toString('utf8')).get('apiserver_longrunning_requests')?.samples
      .some((x) => x.labels.verb === 'WATCH' && x.labels.resource === 'pods' && x.value > 0);
    const server = await waitFor('kubectl\'s watch counted in /metrics', async () => {
      const r = await b.request('GET', '/metrics');
      return r.status === 200 && watching(r) && r;
    }, 30_000, 250).finally(() => watcher.kill());
    assert.equal(server.status, 200);
    assert.match(String(server.headers['content-type']), /^text\/plain/);
    const fams = parsePromText(server.body.toString('utf8'));
    const need = (f: Map<string, PromFamily>, name: string, type: PromFamily['type']) => {
      const x = family(f, name);
      assert.equal(x.type, type, `${name} is a ${type}`);
      return x;
    };
    const requests = need(fams, 'apiserver_request_total', 'counter');
    assert.ok(requests.samples.some((x) => x.labels.verb === 'LIST' && x.labels.resource === 'pods' && x.labels.code === '200' && x.value > 0), 'pod lists counted');
    assert.ok(requests.samples.some((x) => x.labels.verb === 'POST' && x.labels.resource === 'horizontalpodautoscalers' && x.labels.version === 'v1' && x.labels.code === '201'), 'kubectl autoscale counted');
    need(fams, 'apiserver_request_duration_seconds', 'histogram');
    const longRunning = need(fams, 'apiserver_longrunning_requests', 'gauge');
    assert.ok(longRunning.samples.some((x) => x.labels.verb === 'WATCH' && x.labels.resource === 'pods' && x.value > 0), 'kubectl\'s watch is open');
    need(fams, 'etcd_request_duration_seconds', 'histogram');
    const objects = need(fams, 'apiserver_storage_objects', 'gauge');
    assert.ok(objects.samples.some((x) => x.labels.resource === 'namespaces' && x.value >= 4), 'namespaces counted');
    for (const name of ['workqueue_adds_total', 'workqueue_retries_total']) need(fams, name, 'counter');
    const depth = need(fams, 'workqueue_depth', 'gauge');
    assert.ok(depth.samples.some((x) => x.labels.name === 'deployment'), 'the deployment controller\'s queue is named');
    for (const name of ['workqueue_queue_duration_seconds', 'workqueue_work_duration_seconds']) need(fams, name, 'histogram');
    const attempts = need(fams, 'scheduler_schedule_attempts_total', 'counter');
    assert.ok(attempts.samples.some((x) => x.labels.result === 'scheduled' && x.value >= 3), 'the pods of this suite were scheduled');
    need(fams, 'scheduler_scheduling_attempt_duration_seconds', 'histogram');
    need(fams, 'scheduler_pending_pods', 'gauge');
    // RBAC: a ServiceAccount without the monitoring role may not read it.
    const denied = await k(['get', '--raw', '/metrics', '--as=system:serviceaccount:default:default']);
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /Forbidden|forbidden/);

    const agent = parsePromText(assertOk(await k(['get', '--raw', `/api/v1/nodes/${NODE}/proxy/metrics`]), 'agent /metrics') + '');
    need(agent, 'kubelet_pod_start_duration_seconds', 'histogram');
    const ops = need(agent, 'kubelet_runtime_operations_total', 'counter');
    assert.ok(ops.samples.some((x) => x.labels.operation_type === 'start_container' && x.value > 0), 'container starts counted');
    need(agent, 'kubelet_runtime_operations_duration_seconds', 'histogram');
    need(agent, 'kubelet_image_pulls_total', 'counter');
    // The agent samples every 10 s and this case may run within seconds of the suite's start: wait
    // for the probe pod's first sample rather than assume one scrape holds it.
    const { cadvisor, mine } = await waitFor('the probe pod\'s container in /metrics/cadvisor', async () => {
      const cadvisor = parsePromText(assertOk(await k(['get', '--raw', `/api/v1/nodes/${NODE}/proxy/metrics/cadvisor`]), 'cadvisor'));
      const cpu = need(cadvisor, 'container_cpu_usage_seconds_total', 'counter');
      const mine = cpu.samples.find((x) => x.labels.pod === 'probe' && x.labels.container === 'probe');
      return mine && { cadvisor, mine };
    }, 30_000, 1000);
    for (const l of ['container', 'pod', 'namespace', 'image', 'name', 'id']) assert.ok(l in mine!.labels, `label ${l}`);
    assert.equal(mine!.labels.namespace, 'default');
    assert.equal(mine!.labels.image, 'host');
    for (const name of ['container_memory_working_set_bytes', 'container_memory_usage_bytes', 'container_fs_usage_bytes']) need(cadvisor, name, 'gauge');
    const rx = need(cadvisor, 'container_network_receive_bytes_total', 'counter');
    assert.ok(rx.samples.some((x) => x.labels.pod === 'probe' && x.labels.interface === 'eth0'), 'pod network counters from its namespace');
    need(cadvisor, 'container_network_transmit_bytes_total', 'counter');
    const resource = parsePromText(assertOk(await k(['get', '--raw', `/api/v1/nodes/${NODE}/proxy/metrics/resource`]), 'resource metrics'));
    assert.ok(need(resource, 'pod_cpu_usage_seconds_total', 'counter').samples.some((x) => x.labels.pod === 'probe'));
    const summary = parseJson<any>(assertOk(await k(['get', '--raw', `/api/v1/nodes/${NODE}/proxy/stats/summary`]), 'summary'), 'summary');
    assert.equal(summary.node.nodeName, NODE);
    assert.ok(summary.pods.some((p: any) => p.podRef.name === 'probe' && p.containers[0].memory.workingSetBytes >= 0));
    const history = parseJson<any>(assertOk(await k(['get', '--raw', `/api/v1/nodes/${NODE}/proxy/stats/history?namespace=default&pod=probe`]), 'history'), 'history');
    assert.ok(history.pods['default/probe'].length >= 1, 'the pod has a history for charts');
  });

  /** Waits until the HPA has set Deployment burn to `n` replicas. */
  const burnReplicas = (what: string, n: number) => waitFor(what, async () => {
    const d = parseJson<any>(assertOk(await k(['get', 'deployment', 'burn', '-o', 'json']), 'deployment'), 'deployment');
    return d.spec.replicas === n;
  }, 150_000, 2000);

  test('the HPA scales the Deployment from 1 to its maximum while the pods burn CPU', async () => {
    assert.ok(hpaMadeAt, 'the HPA was made');
    await burnReplicas('3 replicas', 3);
    console.log(`scaled up to 3 after ${((Date.now() - hpaMadeAt) / 1000).toFixed(1)} s (HPA made then; the connection and /metrics cases ran meanwhile)`);
    const table = assertOk(await k(['get', 'hpa', 'burn', '--no-headers']), 'get hpa table');
    assert.match(table, /^burn\s+Deployment\/burn\s+cpu: \d+%\/50%\s+1\s+3\s+\d+\s+\S+$/m);
    const up = parseJson<any>(assertOk(await k(['get', 'hpa', 'burn', '-o', 'json']), 'hpa'), 'hpa');
    assert.equal(cond(up, 'ScalingActive')?.status, 'True');
    assert.equal(cond(up, 'ScalingActive')?.reason, 'ValidMetricFound');
    assert.equal(cond(up, 'AbleToScale')?.status, 'True');
    await waitFor('ScalingLimited TooManyReplicas at the maximum', async () => {
      const h = parseJson<any>(assertOk(await k(['get', 'hpa', 'burn', '-o', 'json']), 'hpa'), 'hpa');
      return cond(h, 'ScalingLimited')?.reason === 'TooManyReplicas' && h.status.currentMetrics?.[0]?.resource?.current?.averageUtilization > 50;
    }, 60_000, 2000);
    execFileSync('touch', ['/tmp/berth-metrics-burn.stop']);
    loadStoppedAt = Date.now();
  });

  test('kubectl top nodes and pods: plausible figures; a CPU-burning pod ranks first within 60 s', async () => {
    assertOk(await k(['run', 'idle', '--image=host', '--restart=Never', '--command', '--', 'sleep', '3600']), 'idle pod');
    // The memory pod (checked below) starts now, so that its samples come while the hog's are awaited.
    assertOk(await k(['run', 'mem', '--image=host', '--restart=Never', '--command', '--', '/usr/bin/python3', '-c', 'import time; x = bytes([1]) * (64 << 20); time.sleep(3600)']), 'mem pod');
    assertOk(await k(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'hog', labels: { run: 'hog' } },
      spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'hog', image: 'host', command: burner('/tmp/berth-metrics-hog.stop'), resources: { limits: { cpu: '500m' } } }] },
    })), 'hog pod');
    assertOk(await k(['wait', '--for=condition=Ready', 'pod/idle', 'pod/hog', '--timeout=60s']), 'pods ready');
    const started = Date.now();
    const nodes = await waitFor('kubectl top nodes', async () => {
      const r = await k(['top', 'nodes', '--no-headers']);
      return r.code === 0 && r.stdout.includes(NODE) ? r.stdout : undefined;
    }, 60_000);
    // NAME CPU(cores) CPU(%) MEMORY(bytes) MEMORY(%)
    const [name, cpu, cpuPct, mem, memPct] = nodes.trim().split(/\s+/);
    assert.equal(name, NODE);
    assert.match(cpu, /^\d+m$/);
    assert.ok(Number(cpu.slice(0, -1)) >= 50, `the node burns CPU for the hog (${cpu})`);
    assert.match(cpuPct, /^\d+%$/);
    assert.match(mem, /^\d+Mi$/);
    assert.ok(Number(mem.slice(0, -2)) > 50, `node memory in use is plausible (${mem})`);
    assert.match(memPct, /^\d+%$/);
    const top = await waitFor('hog first in kubectl top pods', async () => {
      const r = await k(['top', 'pods', '-A', '--sort-by=cpu', '--no-headers']);
      const rows = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/));
      return r.code === 0 && rows[0]?.[1] === 'hog' && rows.some((row) => row[1] === 'idle') ? rows : undefined;
    }, 60_000);
    console.log(`hog ranked first after ${((Date.now() - started) / 1000).toFixed(1)} s: ${JSON.stringify(top.slice(0, 3))}`);
    const hogCpu = Number(top[0][2].replace(/m$/, ''));
    assert.ok(hogCpu >= 50 && hogCpu <= 600, `the hog uses up to its 500m limit, shared with whatever else the machine runs (${top[0][2]})`);
    const idle = top.find((row) => row[1] === 'idle')!;
    assert.ok(Number(idle[2].replace(/m$/, '')) < 50, `sleep uses next to no CPU (${idle[2]})`);
    assert.match(idle[3], /^\d+Mi$/);
    // Memory: a pod holding 64 MiB shows its working set (the idle ones stay under 1 Mi).
    const memMi = await waitFor('the mem pod in kubectl top', async () => {
      const r = await k(['top', 'pod', 'mem', '--no-headers']);
      const m = /^mem\s+\d+m\s+(\d+)Mi/m.exec(r.stdout);
      return m && Number(m[1]) >= 60 ? Number(m[1]) : undefined;
    }, 60_000, 2000);
    assert.ok(memMi >= 60 && memMi <= 100, `64 MiB held → ${memMi}Mi working set`);
    const containers = assertOk(await k(['top', 'pod', 'hog', '--containers', '--no-headers']), 'top --containers');
    assert.match(containers, /^hog\s+hog\s+\d+m\s+\d+Mi/m);
    // The API objects themselves, through the typed endpoint and a label selector.
    const pm = parseJson<any>(assertOk(await k(['get', '--raw', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods?labelSelector=run%3Dhog']), 'raw podmetrics'), 'podmetrics');
    assert.equal(pm.kind, 'PodMetricsList');
    assert.deepEqual(pm.items.map((i: any) => i.metadata.name), ['hog']);
    assert.equal(pm.items[0].window, '10s');
    assert.match(assertOk(await k(['get', 'podmetrics', 'hog']), 'get podmetrics table'), /hog\s+\d+n\s+\d+Ki\s+10s/);
    execFileSync('touch', ['/tmp/berth-metrics-hog.stop']);
    assertOk(await k(['delete', 'pod', 'hog', 'idle', 'mem', '--grace-period=1']), 'delete pods');
  });

  test('the HPA scales the Deployment back down after the load stops, with events', async () => {
    assert.ok(loadStoppedAt, 'the load was stopped at the maximum');
    await burnReplicas('back to 1 replica', 1);
    console.log(`scaled down to 1 ${((Date.now() - loadStoppedAt) / 1000).toFixed(1)} s after the load stopped (the top case ran meanwhile)`);
    const events = parseJson<any>(assertOk(await k(['get', 'events', '--field-selector', 'involvedObject.kind=HorizontalPodAutoscaler,involvedObject.name=burn', '-o', 'json']), 'events'), 'events');
    const rescales = events.items.filter((e: any) => e.reason === 'SuccessfulRescale').map((e: any) => e.message);
    assert.ok(rescales.some((m: string) => /^New size: [23]; reason: cpu resource utilization \(percentage of request\) above target$/.test(m)), `a scale-up event: ${JSON.stringify(rescales)}`);
    assert.ok(rescales.includes('New size: 1; reason: All metrics below target'), `a scale-down event: ${JSON.stringify(rescales)}`);
    assert.match(assertOk(await k(['describe', 'hpa', 'burn']), 'describe hpa'), /SuccessfulRescale/);
    assertOk(await k(['delete', 'hpa', 'burn']), 'delete hpa');
    assertOk(await k(['delete', 'deployment', 'burn']), 'delete deployment');
  });
});
