/**
 * End to end: `bin/berth up` (API server + binder + node agent in one process) running process pods
 * through the real CNI plugins, cgroups and kubectl. Needs root. Pod networks use 10.46.0.0/16 (not
 * the defaults) and are torn down at the end, with the bridge, routes and nftables table.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { startBerth, type BerthServer } from '../support/berth-server.ts';
import { assertOk, parseJson } from '../support/kubectl-assert.ts';
import { waiter } from '../support/wait.ts';
import { portForwardCase } from './port-forward.case.ts';

const CLUSTER_CIDR = '10.46.0.0/16';
const POD_CIDR = '10.46.0.0/24';
/** Its own bridge, so other suites' clusters on this machine never share it. */
const BRIDGE = 'berthe2e0';
const SERVICE_CIDR = '10.47.0.0/16';
const MARK = `berth-e2e-agent-${process.pid}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A pod spec that keeps DNS off the machine's resolvers (the pod's own loopback answers nothing). */
function pod(name: string, container: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { e2e: MARK } },
    spec: { dnsPolicy: 'None', dnsConfig: { nameservers: ['127.0.0.1'] }, terminationGracePeriodSeconds: 2, ...extra, containers: [{ name: 'c', image: 'host', ...container }] },
  });
}

const HTTP_SERVER = `import http.server,socketserver,sys; socketserver.TCPServer.allow_reuse_address=True; socketserver.TCPServer(('',8080), http.server.SimpleHTTPRequestHandler).serve_forever() # ${MARK}`;

describe('node agent with berth up (process runtime)', { concurrency: false }, () => {
  let b: BerthServer;
  const k = async (args: string[], input?: string) => b.kubectl(args, { input, timeoutMs: 60_000 });
  /** uids of every pod this suite created: the leftover checks look for exactly these. */
  const uids = new Set<string>();
  const getPod = async (name: string) => {
    const p = parseJson<any>(assertOk(await k(['get', 'pod', name, '-o', 'json']), `get pod ${name}`), name);
    uids.add(p.metadata.uid);
    return p;
  };
  const waitFor = waiter({ context: () => b.logs().slice(-3000), timeoutMs: 30_000 });

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'the node agent tests need root (network namespaces, cgroups, mounts)');
    b = await startBerth({ command: 'up', extraArgs: ['--cluster-cidr', CLUSTER_CIDR, '--pod-cidr', POD_CIDR, '--service-cidr', SERVICE_CIDR, '--bridge', BRIDGE, '--node-name', 'e2e-node'] });
  });

  after(async () => {
    if (!b) return;
    await k(['delete', 'pods', '--all', '--grace-period=1', '--wait=true']).catch(() => {});
    await b.cleanup();
    for (const cmd of [['ip', 'link', 'del', BRIDGE], ['ip', 'route', 'del', 'unreachable', CLUSTER_CIDR], ['ip', 'route', 'del', SERVICE_CIDR], ['nft', 'delete', 'table', 'inet', `berth-egress-${BRIDGE}`]]) {
      try { execFileSync(cmd[0], cmd.slice(1), { stdio: 'ignore' }); } catch { /* not there */ }
    }
  });

  test('the node registers and becomes Ready, with a Lease and RuntimeClasses', async () => {
    const node = await waitFor('node Ready', async () => {
      const n = parseJson<any>(assertOk(await k(['get', 'node', 'e2e-node', '-o', 'json']), 'get node'), 'node');
      return n.status.conditions.find((c: any) => c.type === 'Ready')?.status === 'True' && n;
    });
    assert.equal(node.metadata.labels['kubernetes.io/hostname'], 'e2e-node');
    assert.ok(Number(node.status.capacity.pods) > 0);
    assertOk(await k(['get', 'lease', '-n', 'kube-node-lease', 'e2e-node']), 'node lease');
    const rcs = assertOk(await k(['get', 'runtimeclass', '-o', 'name']), 'runtimeclasses');
    assert.match(rcs, /runtimeclass.node.k8s.io\/process/);
    assert.match(rcs, /runtimeclass.node.k8s.io\/runc/);
  });

  test('an HTTP process pod with a readiness probe becomes Ready and answers on its pod IP', async () => {
    assertOk(await k(['apply', '-f', '-'], pod('web', { command: ['python3', '-c', HTTP_SERVER], readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 } })), 'apply web');
    assertOk(await k(['apply', '-f', '-'], pod('web2', { command: ['python3', '-c', HTTP_SERVER] })), 'apply web2');
    const web = await waitFor('web Ready', async () => {
      const p = await getPod('web');
      return p.status.conditions?.find((c: any) => c.type === 'Ready')?.status === 'True' && p;
    });
    const ip = web.status.podIP as string;
    assert.match(ip, /^10\.46\.0\.\d+$/);
    const res = await fetch(`http://${ip}:8080/`, { signal: AbortSignal.timeout(5000) });
    assert.equal(res.status, 200, 'the host reaches the pod IP');
    const web2 = await waitFor('web2 IP', async () => { const p = await getPod('web2'); return p.status.podIP && p; });
    assert.notEqual(web2.status.podIP, ip, 'a second pod gets a different IP');
    // Pod to pod: a Never pod that fetches from web exits 0.
    assertOk(await k(['apply', '-f', '-'], pod('client', { command: ['python3', '-c', `import urllib.request; urllib.request.urlopen('http://${ip}:8080/', timeout=5)`] }, { restartPolicy: 'Never' })), 'apply client');
    const client = await waitFor('client finished', async () => { const p = await getPod('client'); return ['Succeeded', 'Failed'].includes(p.status.phase) && p; });
    assert.equal(client.status.phase, 'Succeeded', 'another pod reaches web by pod IP');
    const table = assertOk(await k(['get', 'pods', '-o', 'wide']), 'get pods -o wide');
    assert.match(table, /^web\s+1\/1\s+Running\s+0\s+/m);
  });

  test('kubectl logs (-f, --tail), exec (stdin, exit codes, a tty) and attach -i reach the container', async () => {
    assertOk(await k(['apply', '-f', '-'], pod('talker', { command: ['sh', '-c', `i=0; while true; do i=$((i+1)); echo line $i; sleep 0.2; done # ${MARK}`] })), 'apply talker');
    await waitFor('talker running', async () => (await getPod('talker')).status.phase === 'Running');
    await waitFor('some output', async () => /line 3/.test((await k(['logs', 'talker'])).stdout));
    const tail = assertOk(await k(['logs', 'talker', '--tail=1']), 'logs --tail');
    assert.match(tail.trim(), /^line \d+$/);
    const follow = await k(['logs', '-f', 'talker', '--tail=1', '--request-timeout=2s']);
    assert.ok(follow.stdout.trim().split('\n').length >= 3, `logs -f streams new lines: ${JSON.stringify(follow.stdout)}`);
    const echoed = assertOk(await k(['exec', '-i', 'talker', '--', 'cat'], 'hello from stdin\n'), 'exec -i cat');
    assert.equal(echoed, 'hello from stdin\n');
    const three = await k(['exec', 'talker', '--', 'sh', '-c', 'exit 3']);
    assert.equal(three.code, 3, `exec exit code propagates: ${three.stderr}`);
    // A real pseudo-terminal on the kubectl side: util-linux `script` runs it under a pty.
    const kc = b.kubeconfig;
    const tty = execFileSync('script', ['-qec', `kubectl --kubeconfig ${kc} --cache-dir ${b.cacheDir} exec -it talker -- sh -c 'tty; echo $((6*7))'`, '/dev/null'], { timeout: 30_000 }).toString();
    assert.match(tty, /\/dev\/pts\/\d+/);
    assert.match(tty, /42/);
    // kubectl attach -i into a process container started with stdin: true.
    assertOk(await k(['apply', '-f', '-'], pod('reader', { stdin: true, command: ['sh', '-c', `read a; echo got:$a; read b; echo got:$b # ${MARK}`] }, { restartPolicy: 'Never' })), 'apply reader');
    await waitFor('reader running', async () => (await getPod('reader')).status.phase === 'Running');
    const attached = await k(['attach', '-i', 'reader'], 'one\ntwo\n');
    assert.match(attached.stdout, /got:one\ngot:two\n/, attached.stderr);
    await waitFor('reader done', async () => (await getPod('reader')).status.phase === 'Succeeded');
    // kubectl run -i (stdin: true, stdinOnce: true): the end of the piped input is cat's EOF.
    const run = await k(['run', 'piped', '-i', '--rm', '--restart=Never', '--image=host', '--labels', `e2e=${MARK}`, '--command', '--', 'cat'], 'through kubectl run\n');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /through kubectl run\n/);
    // kubectl run -it (tty: true): the command has a terminal of its own; what is typed reaches it.
    const runTty = execFileSync('script', ['-qec', `kubectl --kubeconfig ${kc} --cache-dir ${b.cacheDir} run ttyrun -it --rm --restart=Never --image=host --labels e2e=${MARK} --command -- sh -c 'read x; tty; echo got:$x:$((6*7))'`, '/dev/null'], { input: 'typed\n', timeout: 60_000 }).toString();
    assert.match(runTty, /\/dev\/pts\/\d+/);
    assert.match(runTty, /got:typed:42/);
  });

  test('a Never pod that exits 0 is Succeeded; env from ConfigMap and Secret and a configMap volume are visible', async () => {
    assertOk(await k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { FOO: 'foo', key: 'val' } })), 'cm');
    assertOk(await k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sec' }, stringData: { BAR: 'bar' } })), 'secret');
    assertOk(await k(['apply', '-f', '-'], pod('envcheck', {
      command: ['sh', '-c', 'test "$FOO" = foo && test "$BAR" = bar && test "$(cat /etc/cfg/key)" = val && test "$POD" = envcheck'],
      envFrom: [{ configMapRef: { name: 'cfg' } }],
      env: [{ name: 'BAR', valueFrom: { secretKeyRef: { name: 'sec', key: 'BAR' } } }, { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
      volumeMounts: [{ name: 'cfg', mountPath: '/etc/cfg' }],
    }, { restartPolicy: 'Never', volumes: [{ name: 'cfg', configMap: { name: 'cfg' } }] })), 'apply envcheck');
    const p = await waitFor('envcheck finished', async () => { const x = await getPod('envcheck'); return ['Succeeded', 'Failed'].includes(x.status.phase) && x; });
    assert.equal(p.status.phase, 'Succeeded', JSON.stringify(p.status.containerStatuses));
    assert.equal(p.status.containerStatuses[0].state.terminated.reason, 'Completed');
  });

  test('a crashing container goes into CrashLoopBackOff; a failing liveness probe restarts it', async () => {
    assertOk(await k(['apply', '-f', '-'], pod('crash', { command: ['sh', '-c', 'exit 2'] })), 'apply crash');
    assertOk(await k(['apply', '-f', '-'], pod('live', { command: ['sleep', '600'], livenessProbe: { exec: { command: ['false'] }, periodSeconds: 1, failureThreshold: 1 } })), 'apply live');
    const crash = await waitFor('CrashLoopBackOff', async () => {
      const p = await getPod('crash');
      const s = p.status.containerStatuses?.[0];
      return s?.state?.waiting?.reason === 'CrashLoopBackOff' && p;
    });
    assert.equal(crash.status.containerStatuses[0].lastState.terminated.exitCode, 2);
    assert.equal(crash.status.containerStatuses[0].lastState.terminated.reason, 'Error');
    await waitFor('liveness restart', async () => (await getPod('live')).status.containerStatuses?.[0]?.restartCount >= 1, 40_000);
    const events = assertOk(await k(['get', 'events', '--field-selector', 'involvedObject.name=live']), 'events');
    assert.match(events, /Unhealthy/);
  });

  test('a container over its memory limit is OOMKilled and restarted', async () => {
    assertOk(await k(['apply', '-f', '-'], pod('oom', {
      command: ['python3', '-c', 'x = bytearray(256 * 1024 * 1024); import time; time.sleep(60)'],
      resources: { limits: { memory: '48Mi' } },
    })), 'apply oom');
    const p = await waitFor('OOMKilled', async () => {
      const x = await getPod('oom');
      const s = x.status.containerStatuses?.[0];
      return (s?.lastState?.terminated?.reason === 'OOMKilled' || s?.state?.terminated?.reason === 'OOMKilled') && x;
    }, 40_000);
    assert.equal((p.status.containerStatuses[0].lastState?.terminated ?? p.status.containerStatuses[0].state.terminated).exitCode, 137);
  });

  test('a command that does not exist gives CreateContainerError', async () => {
    assertOk(await k(['apply', '-f', '-'], pod('nocmd', { command: ['/no/such/binary'] })), 'apply nocmd');
    const p = await waitFor('CreateContainerError', async () => {
      const x = await getPod('nocmd');
      return x.status.containerStatuses?.[0]?.state?.waiting?.reason === 'CreateContainerError' && x;
    });
    assert.match(p.status.containerStatuses[0].state.waiting.message, /no\/such\/binary/);
  });

  test('restarting berth up re-adopts running containers (startedAt and restartCount unchanged)', async () => {
    const before = (await getPod('web')).status.containerStatuses[0];
    await b.restart();
    await sleep(2000);
    const afterRestart = await waitFor('web status after restart', async () => {
      const p = await getPod('web');
      return p.status.conditions?.find((c: any) => c.type === 'Ready')?.status === 'True' && p.status.containerStatuses[0];
    });
    assert.equal(afterRestart.restartCount, before.restartCount);
    assert.equal(afterRestart.state.running?.startedAt, before.state.running?.startedAt);
    const res = await fetch(`http://${(await getPod('web')).status.podIP}:8080/`, { signal: AbortSignal.timeout(5000) });
    assert.equal(res.status, 200, 'still serving after the agent restart');
  });

  // ---- workload controllers and the scheduler, on the same single-node cluster ----

  const deployment = (replicas: number, v: string) => JSON.stringify({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'app', labels: { e2e: MARK } },
    spec: {
      replicas, selector: { matchLabels: { app: 'app' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels: { app: 'app' } },
        spec: { dnsPolicy: 'None', dnsConfig: { nameservers: ['127.0.0.1'] }, terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'host', command: ['sleep', '3600'], env: [{ name: 'V', value: v }], readinessProbe: { exec: { command: ['true'] }, initialDelaySeconds: 1, periodSeconds: 1 } }] },
      },
    },
  });
  const deploy = async () => parseJson<any>(assertOk(await k(['get', 'deploy', 'app', '-o', 'json']), 'get deploy'), 'deploy');

  test('a Deployment of process pods becomes available, scales, rolls out within its bounds and rolls back', async () => {
    assertOk(await k(['apply', '-f', '-'], deployment(3, '1')), 'apply deployment');
    assertOk(await k(['rollout', 'status', 'deploy/app', '--timeout=60s']), 'rollout status');
    assert.equal((await deploy()).status.availableReplicas, 3);
    assertOk(await k(['scale', 'deploy/app', '--replicas=5']), 'scale 5');
    await waitFor('5 available', async () => (await deploy()).status.availableReplicas === 5);
    assertOk(await k(['scale', 'deploy/app', '--replicas=3']), 'scale 3');
    await waitFor('3 replicas', async () => { const d = await deploy(); return d.status.replicas === 3 && d.status.availableReplicas === 3; });
    // Roll out a new env value; with maxUnavailable 0 and maxSurge 1, ready pods never drop below 3
    // and total pods never exceed 4 (sampled throughout).
    assertOk(await k(['set', 'env', 'deploy/app', 'V=2']), 'set env');
    const samples: { ready: number; total: number }[] = [];
    let done = false;
    const sampler = (async () => {
      while (!done) {
        const d = await b.request('GET', '/apis/apps/v1/namespaces/default/deployments/app').then((r) => r.json).catch(() => undefined) as any;
        if (d?.status) samples.push({ ready: d.status.readyReplicas ?? 0, total: d.status.replicas ?? 0 });
        await sleep(20);
      }
    })();
    assertOk(await k(['rollout', 'status', 'deploy/app', '--timeout=90s']), 'rollout status after set env');
    done = true;
    await sampler;
    assert.ok(samples.length > 3, 'the rollout was sampled');
    assert.ok(samples.every((s) => s.ready >= 3), `ready stayed ≥ 3: ${JSON.stringify(samples)}`);
    assert.ok(samples.every((s) => s.total <= 4), `pods stayed ≤ 4: ${JSON.stringify(samples)}`);
    const history = assertOk(await k(['rollout', 'history', 'deploy/app']), 'history');
    assert.match(history, /^1\s/m);
    assert.match(history, /^2\s/m);
    assertOk(await k(['rollout', 'undo', 'deploy/app']), 'undo');
    assertOk(await k(['rollout', 'status', 'deploy/app', '--timeout=90s']), 'rollout status after undo');
    assert.equal((await deploy()).spec.template.spec.containers[0].env[0].value, '1', 'undo restored the previous template');
  });

  test('deleting a Deployment removes its ReplicaSets and pods; --cascade=orphan leaves the pods', async () => {
    assertOk(await k(['delete', 'deploy', 'app', '--cascade=orphan']), 'delete orphan');
    // Old pods of the rollback may still be terminating; count the live ones.
    await waitFor('3 live pods', async () => {
      const list = parseJson<any>(assertOk(await k(['get', 'pods', '-l', 'app=app', '-o', 'json']), 'pods'), 'pods');
      return list.items.filter((p: any) => !p.metadata.deletionTimestamp).length === 3;
    });
    await sleep(1000);
    const live = parseJson<any>(assertOk(await k(['get', 'pods', '-l', 'app=app', '-o', 'json']), 'pods'), 'pods').items.filter((p: any) => !p.metadata.deletionTimestamp);
    assert.equal(live.length, 3, 'pods stay after an orphaning delete');
    assertOk(await k(['delete', 'rs', '-l', 'app=app']), 'delete rs');
    assertOk(await k(['delete', 'pods', '-l', 'app=app', '--grace-period=1']), 'delete orphans');
    assertOk(await k(['apply', '-f', '-'], deployment(2, '1')), 'apply again');
    assertOk(await k(['rollout', 'status', 'deploy/app', '--timeout=60s']), 'rollout');
    assertOk(await k(['delete', 'deploy', 'app']), 'delete background');
    await waitFor('ReplicaSets and pods gone', async () => {
      const rs = (await k(['get', 'rs', '-l', 'app=app', '-o', 'name'])).stdout.trim();
      const pods = (await k(['get', 'pods', '-l', 'app=app', '-o', 'name'])).stdout.trim();
      return rs === '' && pods === '';
    }, 40_000);
  });

  test('a Job with completions 5 and parallelism 2 completes with at most 2 pods active; a failing Job gets Failed', async () => {
    const job = (name: string, cmd: string[], spec: Record<string, unknown>) => JSON.stringify({
      apiVersion: 'batch/v1', kind: 'Job', metadata: { name },
      spec: { ...spec, template: { spec: { restartPolicy: 'Never', dnsPolicy: 'None', dnsConfig: { nameservers: ['127.0.0.1'] }, containers: [{ name: 'c', image: 'host', command: cmd }] } } },
    });
    assertOk(await k(['apply', '-f', '-'], job('five', ['sh', '-c', 'sleep 0.5'], { completions: 5, parallelism: 2 })), 'apply five');
    assertOk(await k(['apply', '-f', '-'], job('fails', ['false'], { backoffLimit: 1 })), 'apply fails');
    let maxActive = 0;
    const five = await waitFor('job five complete', async () => {
      const j = parseJson<any>(assertOk(await k(['get', 'job', 'five', '-o', 'json']), 'get job'), 'job');
      maxActive = Math.max(maxActive, j.status.active ?? 0);
      return j.status.conditions?.some((c: any) => c.type === 'Complete' && c.status === 'True') && j;
    }, 60_000);
    assert.equal(five.status.succeeded, 5);
    assert.ok(maxActive <= 2, `at most 2 active at once (saw ${maxActive})`);
    assertOk(await k(['wait', '--for=condition=Failed', 'job/fails', '--timeout=60s']), 'the failing job gets Failed');
    assertOk(await k(['delete', 'jobs', 'five', 'fails']), 'delete jobs');
  });

  test('with 20 simulated nodes: a DaemonSet covers all 21 nodes; an oversized pod stays Pending with the reason; a taint blocks until removed', async () => {
    const sim = spawn(process.execPath, ['--import', 'tsx', 'bin/berth', 'sim', '--nodes', '20', '--prefix', 'e2esim', '--kubeconfig', b.kubeconfig], { cwd: new URL('../..', import.meta.url).pathname, stdio: ['ignore', 'pipe', 'pipe'] });
    let simOut = '';
    sim.stdout.on('data', (d) => (simOut += d));
    sim.stderr.on('data', (d) => (simOut += d));
    try {
      await waitFor('21 nodes', async () => (await k(['get', 'nodes', '-o', 'name'])).stdout.trim().split('\n').length === 21 || undefined, 60_000).catch((err) => { throw new Error(`${err.message}\n${simOut}`); });
      assertOk(await k(['apply', '-f', '-'], JSON.stringify({
        apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'everywhere' },
        spec: { selector: { matchLabels: { ds: 'everywhere' } }, template: { metadata: { labels: { ds: 'everywhere' } }, spec: { dnsPolicy: 'None', dnsConfig: { nameservers: ['127.0.0.1'] }, terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'host', command: ['sleep', '3600'] }] } } },
      })), 'apply daemonset');
      await waitFor('DaemonSet on 21 nodes', async () => {
        const ds = parseJson<any>(assertOk(await k(['get', 'ds', 'everywhere', '-o', 'json']), 'get ds'), 'ds');
        return ds.status.desiredNumberScheduled === 21 && ds.status.numberReady === 21;
      }, 90_000);
      assertOk(await k(['apply', '-f', '-'], pod('huge', { command: ['sleep', '1'], resources: { requests: { cpu: '500' } } })), 'apply huge');
      await waitFor('Insufficient cpu', async () => /Insufficient cpu/.test((await k(['describe', 'pod', 'huge'])).stdout));
      assertOk(await k(['taint', 'node', 'e2esim-0003', 'dedicated=special:NoSchedule']), 'taint');
      assertOk(await k(['apply', '-f', '-'], pod('pinned', { command: ['sleep', '1'] }, { nodeSelector: { 'kubernetes.io/hostname': 'e2esim-0003' } })), 'apply pinned');
      await waitFor('taint reason', async () => /untolerated taint/.test((await k(['describe', 'pod', 'pinned'])).stdout));
      assertOk(await k(['taint', 'node', 'e2esim-0003', 'dedicated-']), 'untaint');
      await waitFor('pinned scheduled', async () => (await getPod('pinned')).spec.nodeName === 'e2esim-0003', 40_000);
    } finally {
      // The hollow nodes confirm their pods' deletion while the simulator runs: clean up first.
      await k(['delete', 'ds', 'everywhere', '--ignore-not-found', '--wait=true']).catch(() => {});
      await k(['delete', 'pod', 'huge', 'pinned', '--grace-period=0', '--force', '--ignore-not-found']).catch(() => {});
      await waitFor('DaemonSet pods gone', async () => (await k(['get', 'pods', '-l', 'ds=everywhere', '-o', 'name'])).stdout.trim() === '', 60_000).catch(() => {});
      sim.kill('SIGTERM');
      await k(['delete', 'pods', '-l', 'ds=everywhere', '--grace-period=0', '--force', '--ignore-not-found']).catch(() => {});
      for (let i = 0; i < 20; i++) await k(['delete', 'node', `e2esim-${String(i).padStart(4, '0')}`, '--ignore-not-found']).catch(() => {});
    }
  });

  test('kubectl port-forward reaches a server bound to 127.0.0.1 in the pod (websocket tunnel and SPDY)', () =>
    portForwardCase({ kubectl: k, kubeconfig: b.kubeconfig, cacheDir: b.cacheDir, manifest: pod, track: getPod }));

  test('deleting every pod leaves no process, cgroup, mount, network namespace or veth behind', async () => {
    assertOk(await k(['delete', 'pods', '--all', '--grace-period=2', '--wait=true'], undefined), 'delete pods');
    await waitFor('pods gone', async () => (await k(['get', 'pods', '-o', 'name'])).stdout.trim() === '');
    await sleep(500);
    const ps = execFileSync('ps', ['-eo', 'args']).toString();
    assert.ok(!ps.includes(MARK), `no pod process is left:\n${ps.split('\n').filter((l) => l.includes(MARK)).join('\n')}`);
    assert.ok(uids.size >= 5, 'the suite saw its pods');
    const netns = execFileSync('ip', ['netns', 'list']).toString();
    for (const uid of uids) {
      const name = `berth-${uid.replace(/-/g, '').slice(0, 16)}`;
      assert.ok(!netns.includes(name), `no pod network namespace is left: ${name} in ${netns}`);
    }
    const ports = execFileSync('ip', ['link', 'show', 'master', BRIDGE]).toString().trim();
    assert.equal(ports, '', 'no veth is left on the bridge');
    for (const ctl of ['memory', 'pids', 'cpu']) {
      const dir = `/sys/fs/cgroup/${ctl}/berth`;
      const left = existsSync(dir) ? readdirSync(dir).filter((d) => uids.has(d.replace(/^pod-/, ''))) : [];
      assert.deepEqual(left, [], `no pod cgroup is left under ${dir}`);
    }
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
    assert.ok(!mounts.includes(`${b.dataDir}/agent/pods/`), 'no pod volume mount is left');
  });
});
