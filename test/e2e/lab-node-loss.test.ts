/**
 * End to end: losing a node of a `berth lab` cluster (three real agents in network namespaces, a
 * real server, kubectl over TLS), on the server's defaults — node grace 8 s, Leases renewed every
 * 2 s — but for DefaultTolerationSeconds: 20 s (`--default-{not-ready,unreachable}-toleration-seconds`,
 * as kube-apiserver's; the default 30 s only makes the waits longer).
 *
 *   kill node-2       NotReady within the grace; the Service's endpoints drop its pods at once
 *                     (MarkPodsNotReady); its Deployment pods run again on node-1/3 within 50 s
 *   restart node-2    rejoins (Ready) and gets pods again
 *   partition node-2  for 20 s: a Deployment tolerating 5 s has its node-2 pod replaced meanwhile,
 *   then heal         the default-tolerating pods are not (20 s from the taint, ~8 s in);
 *                     node-2 is Ready again, that pod's processes are stopped there (the agent
 *                     reconciles with the API), the pods that were not replaced are Ready again
 *   a second machine  `berth join --node-name node-1` from node-3's namespace while node-1 lives:
 *                     refused with a clear error, node-1 untouched
 *
 * Serial (machine lock: bridges, namespaces, cgroups); needs root. Cluster DNS forwards to a
 * dnsmasq on loopback, never to the machine's resolvers.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pidsInCgroup, runLab as lab } from '../../src/lab/lab.fixture.ts';
import { freePort } from '../support/berth-server.ts';
import { kubectl, type KubectlResult } from '../support/kubectl.ts';
import { assertOk, parseJson } from '../support/kubectl-assert.ts';
import { waiter } from '../support/wait.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BERTH = path.join(REPO, 'bin', 'berth');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The server's DefaultTolerationSeconds for both taints (its default: 30). */
const TOLERATION_S = 20;
/** How long node-2 is cut off: past the quick pods' 5 s toleration, short of the others' TOLERATION_S (from the taint, ~8 s in). */
const PARTITION_S = 20;

interface LabJson { serverUrl: string; serverDataDir: string; clusterCidr: string; serviceCidr: string; nodes: { name: string; cgroup: string; dataDir: string; netns: string; address: string }[] }

describe('berth lab: node loss', { concurrency: false }, () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'berth-e2e-lab-loss-'));
  const cache = path.join(dataDir, 'kubecache');
  let state: LabJson;
  let dnsmasq: ChildProcess | undefined;
  const k = (args: string[], input?: string): Promise<KubectlResult> => kubectl(args, { kubeconfig: path.join(dataDir, 'kubeconfig'), cacheDir: cache, input, timeoutMs: 60_000 });
  const tail = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8').trimEnd().split('\n').slice(-12).join('\n') : '(none)');
  const waitFor = waiter({
    context: async () => {
      const logs = state ? state.nodes.map((n) => `--- ${n.name}\n${tail(path.join(n.dataDir, 'agent.log'))}`).join('\n') : '';
      const objects = await k(['get', 'nodes,deployments,replicasets,pods,endpoints', '-o', 'wide']).then((r) => r.stdout + r.stderr, (err) => String(err));
      return `${objects}\n${logs}\n--- server\n${tail(path.join(dataDir, 'server.log'))}`;
    },
  });
  const readyOf = async (name: string) => {
    const r = await k(['get', 'node', name, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']);
    return r.code === 0 ? r.stdout.trim() : undefined;
  };
  const pods = async (app: string) => (parseJson<any>(assertOk(await k(['get', 'pods', '-l', `app=${app}`, '-o', 'json']), 'pods'), 'pods').items as any[]).filter((p) => !p.metadata.deletionTimestamp);
  const running = (ps: any[]) => ps.filter((p) => p.status?.phase === 'Running');
  /** The ready endpoint addresses of Service `web`, with their node. */
  const endpointNodes = async () => {
    const ep = parseJson<any>(assertOk(await k(['get', 'endpoints', 'web', '-o', 'json']), 'endpoints'), 'endpoints');
    return (ep.subsets ?? []).flatMap((s: any) => (s.addresses ?? []).map((a: any) => a.nodeName as string));
  };
  const deployment = (name: string, replicas: number, tolerationSeconds?: number) => JSON.stringify({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name },
    spec: {
      replicas, selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: 1,
          ...(tolerationSeconds !== undefined ? { tolerations: ['unreachable', 'not-ready'].map((t) => ({ key: `node.kubernetes.io/${t}`, operator: 'Exists', effect: 'NoExecute', tolerationSeconds })) } : {}),
          topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { app: name } } }],
          containers: [{ name: 'c', image: 'host', command: ['sleep', '3600'], ports: [{ containerPort: 8080 }] }],
        },
      },
    },
  });

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'berth lab needs root (network namespaces, bridges, cgroups)');
    const upstreamPort = await freePort();
    dnsmasq = spawn('/usr/sbin/dnsmasq', ['--keep-in-foreground', '--user=root', `--port=${upstreamPort}`, '--listen-address=127.0.0.1', '--bind-interfaces',
      '--no-resolv', '--no-hosts', '--pid-file='], { stdio: 'ignore' });
    const up = await lab(['up', '--nodes', '3', '--data-dir', dataDir, '--dns-upstream', `127.0.0.1:${upstreamPort}`,
      '--default-not-ready-toleration-seconds', String(TOLERATION_S), '--default-unreachable-toleration-seconds', String(TOLERATION_S)]);
    assert.equal(up.code, 0, up.out);
    state = JSON.parse(readFileSync(path.join(dataDir, 'lab.json'), 'utf8')) as LabJson;
  });
  after(async () => {
    if (existsSync(path.join(dataDir, 'lab.json'))) {
      const r = await lab(['down', '--data-dir', dataDir]);
      if (r.code !== 0) console.error(r.out);
    }
    dnsmasq?.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  test(`kill node-2: NotReady within the grace, endpoints drop its pods within 15 s, its pods run elsewhere within ${TOLERATION_S + 30} s`, async () => {
    assertOk(await k(['apply', '-f', '-'], deployment('web', 6)), 'deployment web');
    assertOk(await k(['create', 'service', 'clusterip', 'web', '--tcp=80:8080']), 'service web');
    const spread = await waitFor('6 web pods Running on all three nodes', async () => {
      const r = running(await pods('web'));
      return r.length === 6 && new Set(r.map((p) => p.spec.nodeName)).size === 3 && r;
    }, 90_000);
    await waitFor('6 ready endpoints', async () => (await endpointNodes()).length === 6, 30_000);
    const onNode2 = spread.filter((p: any) => p.spec.nodeName === 'node-2').map((p: any) => p.metadata.name);

    const killedAt = Date.now();
    const kill = await lab(['kill', 'node-2', '--data-dir', dataDir]);
    assert.equal(kill.code, 0, kill.out);
    await waitFor('node-2 NotReady', async () => (await readyOf('node-2')) !== 'True', 20_000, 100);
    const notReady = (Date.now() - killedAt) / 1000;
    await waitFor('no endpoint on node-2', async () => !(await endpointNodes()).includes('node-2'), 20_000, 100);
    const endpointsDropped = (Date.now() - killedAt) / 1000;
    await waitFor('6 web pods Running, none on node-2', async () => {
      const all = await pods('web');
      const r = running(all);
      return all.length === 6 && r.length === 6 && r.every((p) => p.spec.nodeName !== 'node-2');
    }, 90_000);
    const replaced = (Date.now() - killedAt) / 1000;
    const names = (await pods('web')).map((p) => p.metadata.name);
    assert.ok(onNode2.every((n: string) => !names.includes(n)), 'node-2\'s pods were replaced');
    process.stdout.write(`# kill node-2: NotReady after ${notReady.toFixed(1)} s, endpoints without it after ${endpointsDropped.toFixed(1)} s, ${onNode2.length} pods replaced and Running after ${replaced.toFixed(1)} s\n`);
    // Grace 8 s after the last renewal (every 2 s), the controller's pass and kubectl's own start: within 10 s.
    assert.ok(notReady <= 10, `NotReady after ${notReady.toFixed(1)} s`);
    assert.ok(endpointsDropped <= 15, `endpoints dropped node-2 after ${endpointsDropped.toFixed(1)} s`);
    // Evicted TOLERATION_S after the taint (NotReady), then made and started elsewhere.
    assert.ok(replaced <= TOLERATION_S + 30, `replaced after ${replaced.toFixed(1)} s`);
    assert.ok(replaced >= TOLERATION_S, `replaced after ${replaced.toFixed(1)} s: before the pods' ${TOLERATION_S} s toleration`);
  });

  test('restart node-2: it rejoins and gets pods again', async () => {
    const restart = await lab(['restart', 'node-2', '--data-dir', dataDir]);
    assert.equal(restart.code, 0, restart.out);
    assert.equal(await readyOf('node-2'), 'True');
    await waitFor('node-2 untainted', async () => {
      const n = parseJson<any>(assertOk(await k(['get', 'node', 'node-2', '-o', 'json']), 'node'), 'node');
      return !(n.spec.taints ?? []).some((t: any) => t.key.startsWith('node.kubernetes.io/'));
    }, 30_000);
    assertOk(await k(['scale', 'deployment/web', '--replicas=9']), 'scale');
    await waitFor('a web pod Running on node-2', async () => running(await pods('web')).some((p) => p.spec.nodeName === 'node-2'), 90_000);
  });

  test(`partition node-2 for ${PARTITION_S} s, then heal: a pod replaced meanwhile is stopped there; the others are Ready again`, async () => {
    const n2 = state.nodes.find((n) => n.name === 'node-2')!;
    assertOk(await k(['apply', '-f', '-'], deployment('quick', 3, 5)), 'deployment quick');
    const quick = await waitFor('a quick pod Running on each node', async () => {
      const r = running(await pods('quick'));
      return r.length === 3 && new Set(r.map((p) => p.spec.nodeName)).size === 3 && r;
    }, 90_000);
    const victim = quick.find((p: any) => p.spec.nodeName === 'node-2');
    const victimCgroup = `${n2.cgroup}/pods/pod-${victim.metadata.uid}`;
    assert.ok(pidsInCgroup(victimCgroup).length > 0, 'the quick pod runs on node-2');
    const webOnNode2 = running(await pods('web')).filter((p) => p.spec.nodeName === 'node-2').map((p) => p.metadata.name);
    assert.ok(webOnNode2.length > 0, 'web pods on node-2');

    const partitionedAt = Date.now();
    const part = await lab(['partition', 'node-2', '--data-dir', dataDir]);
    assert.equal(part.code, 0, part.out);
    await waitFor('the quick pod of node-2 replaced elsewhere', async () => {
      const all = await pods('quick');
      return !all.some((p) => p.metadata.name === victim.metadata.name) && running(all).length === 3;
    }, TOLERATION_S * 1000 + 5_000);
    // Cut off, the agent knows nothing of it: its processes still run.
    assert.ok(pidsInCgroup(victimCgroup).length > 0, 'during the partition the replaced pod still runs on node-2');
    await sleep(Math.max(0, PARTITION_S * 1000 - (Date.now() - partitionedAt)));
    const healedAt = Date.now();
    const cutS = (healedAt - partitionedAt) / 1000;
    const heal = await lab(['heal', 'node-2', '--data-dir', dataDir]);
    assert.equal(heal.code, 0, heal.out);

    await waitFor('node-2 Ready again', async () => (await readyOf('node-2')) === 'True', 30_000);
    const readyAgain = (Date.now() - healedAt) / 1000;
    await waitFor('the replaced pod stopped on node-2', async () => pidsInCgroup(victimCgroup).length === 0, 30_000);
    const stopped = (Date.now() - healedAt) / 1000;
    // The web pods (TOLERATION_S from the taint, ~8 s into the partition) were not replaced: Ready again, in the endpoints.
    const web = await pods('web');
    assert.ok(webOnNode2.every((n: string) => web.some((p) => p.metadata.name === n)), 'node-2\'s web pods were kept');
    await waitFor('node-2\'s web pods in the endpoints again', async () => (await endpointNodes()).filter((n: string) => n === 'node-2').length === webOnNode2.length, 30_000);
    process.stdout.write(`# partition node-2 ${cutS.toFixed(1)} s: quick pod replaced elsewhere meanwhile; after heal node-2 Ready in ${readyAgain.toFixed(1)} s, the replaced pod stopped there in ${stopped.toFixed(1)} s, its ${webOnNode2.length} web pods Ready again\n`);
  });

  test('berth join under the name of a live node (node-1, from node-3\'s namespace): a clear error, exit 1, node-1 untouched', async () => {
    const n3 = state.nodes.find((n) => n.name === 'node-3')!;
    const before = parseJson<any>(assertOk(await k(['get', 'node', 'node-1', '-o', 'json']), 'node-1'), 'node-1');
    const leaseBefore = parseJson<any>(assertOk(await k(['get', 'lease', '-n', 'kube-node-lease', 'node-1', '-o', 'json']), 'lease'), 'lease');
    const dupDir = path.join(dataDir, 'dup');
    const run = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn('nsenter', [`--net=/run/netns/${n3.netns}`, BERTH, 'join', '--server', state.serverUrl, '--token-file', path.join(state.serverDataDir, 'join-token'),
        '--node-name', 'node-1', '--data-dir', dupDir, '--listen', `${n3.address}:10251`, '--cluster-cidr', state.clusterCidr, '--service-cidr', state.serviceCidr,
        '--bridge', 'dupbr0', '--cgroup-root', `${n3.cgroup}/dup`], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => { out += d; });
      child.stderr.on('data', (d) => { out += d; });
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('close', (code) => { clearTimeout(timer); resolve({ code, out }); });
    });
    assert.equal(run.code, 1, run.out);
    assert.match(run.out, /berth join: node name "node-1" is held by a live node: its Lease was renewed \d+\.\d s ago by another agent \(instance [0-9a-f]+; this one is [0-9a-f]+, .*agent-instance\)\. Nothing was changed\./);
    const after = parseJson<any>(assertOk(await k(['get', 'node', 'node-1', '-o', 'json']), 'node-1'), 'node-1');
    assert.equal(after.metadata.uid, before.metadata.uid);
    assert.deepEqual(after.metadata.labels, before.metadata.labels);
    assert.deepEqual(after.metadata.annotations, before.metadata.annotations, 'the agent URL is still node-1\'s own');
    assert.equal(after.spec.podCIDR, before.spec.podCIDR);
    const leaseAfter = parseJson<any>(assertOk(await k(['get', 'lease', '-n', 'kube-node-lease', 'node-1', '-o', 'json']), 'lease'), 'lease');
    assert.equal(leaseAfter.metadata.annotations['berth.dev/agent-instance'], leaseBefore.metadata.annotations['berth.dev/agent-instance']);
    assert.equal(await readyOf('node-1'), 'True');
    rmSync(dupDir, { recursive: true, force: true });
  });
});
