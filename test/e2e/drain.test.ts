/**
 * End to end: `kubectl cordon`, `uncordon` and `drain` with a PodDisruptionBudget, on `berth up` (a
 * real node, `drain-node`, that runs the pods: process pods with a readiness probe that passes only
 * after 3 s) plus one simulated node (`berth sim`, whose pods are marked Running and Ready at once).
 *
 * A 3-member StatefulSet under `maxUnavailable: 1` is placed on the simulated node (the real one is
 * cordoned meanwhile); draining the simulated node then moves the members to the real node, and
 * kubectl's parallel evictions get 429s until the budget allows again — so a member is evicted only
 * after the previous one is back and Ready on the real node. A pod watch records the timeline the
 * test checks: never fewer than two members Ready, each eviction after the previous replacement's
 * readiness. A budget allowing nothing makes `kubectl drain --timeout=8s` fail quoting the 429 (kubectl
 * retries an eviction every 5 s: 8 s is one refusal and its retry).
 * Needs root; pod networks use 10.62.0.0/16 with their own bridge and are torn down at the end.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBerth, type BerthServer } from '../support/berth-server.ts';
import { assertOk, parseJson } from '../support/kubectl-assert.ts';
import { findKubectl } from '../support/kubectl.ts';
import { waiter } from '../support/wait.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLUSTER_CIDR = '10.62.0.0/16';
const POD_CIDR = '10.62.0.0/24';
const SERVICE_CIDR = '10.63.0.0/16';
const BRIDGE = 'berthdrain0';
const NODE = 'drain-node';
const SIM = 'drainsim-0000';
const NS = 'drain';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One line of the pod watch: when it arrived and what the pod looked like. */
interface Seen { at: number; type: string; name: string; uid: string; deleting: boolean; node: string; ready: boolean }

describe('kubectl drain, cordon and uncordon with a PodDisruptionBudget (berth up + berth sim)', { concurrency: false }, () => {
  let b: BerthServer;
  let sim: ChildProcess | undefined;
  const k = (args: string[], input?: string, timeoutMs = 60_000) => b.kubectl(args, { input, timeoutMs });
  const ok = async (args: string[], input?: string) => assertOk(await k(args, input), args.join(' '));
  const json = async (args: string[]) => parseJson<any>(await ok([...args, '-o', 'json']), args.join(' '));
  const waitFor = waiter({ context: () => b.logs().slice(-3000) });
  const nodeReady = async (name: string) => (await json(['get', 'node', name])).status?.conditions?.find((c: any) => c.type === 'Ready')?.status === 'True';
  const members = async () => (await json(['get', 'pods', '-n', NS, '-l', 'app=web'])).items as any[];
  const isReady = (p: any) => p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True') === true;
  const pdbStatus = async () => (await json(['get', 'pdb', 'web', '-n', NS])).status ?? {};

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'berth up needs root (network namespaces, cgroups, mounts)');
    b = await startBerth({ command: 'up', extraArgs: ['--cluster-cidr', CLUSTER_CIDR, '--pod-cidr', POD_CIDR, '--service-cidr', SERVICE_CIDR, '--bridge', BRIDGE, '--node-name', NODE] });
    await waitFor('the real node Ready', () => nodeReady(NODE));
    sim = spawn(process.execPath, [path.join(REPO, 'bin', 'berth'), 'sim', '--nodes', '1', '--prefix', 'drainsim', '--kubeconfig', b.kubeconfig], { stdio: 'ignore' });
    await waitFor('the simulated node Ready', () => nodeReady(SIM));
    await ok(['create', 'namespace', NS]);
  });

  after(async () => {
    // The namespace goes while the simulated node still runs: its DaemonSet pod's deletion is
    // confirmed by that node (as by a kubelet); with the node gone first it stayed Terminating and
    // the namespace waited out the whole timeout (60 s of every run).
    if (b) await k(['delete', 'namespace', NS, '--wait=true', '--timeout=60s']).catch(() => {});
    sim?.kill('SIGKILL');
    if (!b) return;
    await b.cleanup();
    for (const cmd of [['ip', 'link', 'del', BRIDGE], ['ip', 'route', 'del', 'unreachable', CLUSTER_CIDR], ['ip', 'route', 'del', SERVICE_CIDR], ['nft', 'delete', 'table', 'inet', `berth-egress-${BRIDGE}`]]) {
      try { execFileSync(cmd[0], cmd.slice(1), { stdio: 'ignore' }); } catch { /* not there */ }
    }
  });

  test('cordon marks nodes SchedulingDisabled with the unschedulable taint; a new pod waits until uncordon', async () => {
    assert.match(await ok(['cordon', NODE]), new RegExp(`node/${NODE} cordoned`));
    assert.match(await ok(['cordon', SIM]), new RegExp(`node/${SIM} cordoned`));
    const table = await ok(['get', 'nodes']);
    assert.match(table, new RegExp(`${NODE}\\s+Ready,SchedulingDisabled`));
    assert.match(table, new RegExp(`${SIM}\\s+Ready,SchedulingDisabled`));
    const node = await waitFor('the unschedulable taint', async () => {
      const n = await json(['get', 'node', NODE]);
      return n.spec.taints?.some((t: any) => t.key === 'node.kubernetes.io/unschedulable' && t.effect === 'NoSchedule') && n;
    });
    assert.equal(node.spec.unschedulable, true);

    await ok(['run', 'waiter', '-n', NS, '--image=host', '--restart=Never', '--command', '--', 'sleep', '3600']);
    const reason = await waitFor('FailedScheduling', async () => {
      const ev = (await json(['get', 'events', '-n', NS, '--field-selector', 'involvedObject.name=waiter,reason=FailedScheduling'])).items;
      return ev.length > 0 && ev[0].message;
    });
    assert.match(reason, /2 node\(s\) were unschedulable/);
    assert.equal((await json(['get', 'pod', 'waiter', '-n', NS])).spec.nodeName, undefined);

    assert.match(await ok(['uncordon', SIM]), new RegExp(`node/${SIM} uncordoned`));
    await waitFor('the waiting pod scheduled on the uncordoned node', async () => (await json(['get', 'pod', 'waiter', '-n', NS])).spec.nodeName === SIM);
    await waitFor('the taint gone', async () => !(await json(['get', 'node', SIM])).spec.taints?.some((t: any) => t.key === 'node.kubernetes.io/unschedulable'));
    assert.equal((await json(['get', 'node', SIM])).spec.unschedulable, undefined);
    await ok(['delete', 'pod', 'waiter', '-n', NS, '--wait=true']);
  });

  test('drain evicts StatefulSet members one at a time, each after the previous came back Ready', async () => {
    // The real node is still cordoned: the members and one DaemonSet pod land on the simulated node.
    await ok(['apply', '-f', '-'], manifests());
    await waitFor('3 Ready members on the simulated node', async () => {
      const ps = await members();
      return ps.length === 3 && ps.every((p) => isReady(p) && p.spec.nodeName === SIM) && ps;
    }, 120_000);
    const st = await waitFor('the budget counted', async () => { const s = await pdbStatus(); return s.currentHealthy === 3 && s; });
    assert.deepEqual([st.expectedPods, st.desiredHealthy, st.disruptionsAllowed], [3, 2, 1]);
    assert.match(await ok(['get', 'pdb', '-n', NS]), /NAME\s+MIN AVAILABLE\s+MAX UNAVAILABLE\s+ALLOWED DISRUPTIONS\s+AGE\nweb\s+N\/A\s+1\s+1\s+/);
    await waitFor('a DaemonSet pod on each node', async () => (await json(['get', 'pods', '-n', NS, '-l', 'app=agent'])).items.length === 2);
    await ok(['uncordon', NODE]);

    // kubectl refuses on its own (client-side) without the flags for DaemonSet pods and emptyDir volumes.
    const refused = await k(['drain', SIM, '--timeout=30s']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /cannot delete DaemonSet-managed Pods \(use --ignore-daemonsets to ignore\): drain\/agent-/);
    assert.match(refused.stderr, /cannot delete Pods with local storage \(use --delete-emptydir-data to override\): drain\/web-/);
    const before = await members();
    assert.equal(before.filter((p) => p.metadata.deletionTimestamp).length, 0, 'nothing evicted');
    const originals = new Set(before.map((p) => p.metadata.uid));

    const watch = await watchMembers();
    const drained = await k(['drain', SIM, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=180s'], undefined, 200_000);
    const out = drained.stdout + drained.stderr;
    assert.equal(drained.code, 0, out);
    await waitFor('3 Ready members on the real node', async () => {
      const ps = await members();
      return ps.length === 3 && ps.every((p) => isReady(p) && p.spec.nodeName === NODE && !p.metadata.deletionTimestamp);
    });
    await sleep(500);
    const seen = watch.stop();
    assert.match(out, /Warning: ignoring DaemonSet-managed Pods: drain\/agent-/);
    assert.match(out, new RegExp(`node/${SIM} drained`));
    // The budget held kubectl's parallel evictions back: it retried on 429.
    assert.match(out, /error when evicting pods\/"web-\d" -n "drain" \(will retry after 5s\): Cannot evict pod as it would violate the pod's disruption budget\./);

    const evictions = [...originals].map((uid) => ({ uid, name: seen.find((s) => s.uid === uid)!.name, at: seen.find((s) => s.uid === uid && (s.deleting || s.type === 'DELETED'))?.at }));
    assert.ok(evictions.every((e) => e.at !== undefined), `every original member was evicted: ${JSON.stringify(evictions)}`);
    evictions.sort((x, y) => x.at! - y.at!);
    const readyAgain = (name: string) => seen.find((s) => s.name === name && !originals.has(s.uid) && s.ready)?.at;
    for (let i = 1; i < evictions.length; i++) {
      const prev = evictions[i - 1];
      const back = readyAgain(prev.name);
      assert.ok(back !== undefined && back < evictions[i].at!, `${evictions[i].name} evicted at +${evictions[i].at! - evictions[0].at!} ms, before ${prev.name} was Ready again (+${back === undefined ? 'never' : back - evictions[0].at!} ms)`);
    }
    // Replaying the watch: once all three were up, never fewer than two Ready members (desiredHealthy).
    const state = new Map<string, Seen>();
    let minReady = Infinity;
    for (const s of seen) {
      if (s.type === 'DELETED') state.delete(s.name); else state.set(s.name, s);
      if (s.at < evictions[0].at!) continue;
      minReady = Math.min(minReady, [...state.values()].filter((x) => x.ready && !x.deleting).length);
    }
    assert.equal(minReady, 2, 'at most one member unavailable at any time');
    const done = await waitFor('the budget whole again', async () => { const s = await pdbStatus(); return s.currentHealthy === 3 && s.disruptionsAllowed === 1 && s; });
    assert.equal(done.disruptedPods, undefined);
    process.stdout.write(`evictions at +${evictions.map((e) => `${e.at! - evictions[0].at!} ms (${e.name})`).join(', +')}; replacements Ready at +${evictions.map((e) => `${(readyAgain(e.name) ?? NaN) - evictions[0].at!} ms`).join(', +')}\n`);
  });

  test('a budget that allows nothing: kubectl drain --timeout=8s fails quoting the 429, nothing evicted', async () => {
    await ok(['patch', 'pdb', 'web', '-n', NS, '--type=merge', '-p', '{"spec":{"maxUnavailable":0}}']);
    await waitFor('generation 2 observed, nothing allowed', async () => { const s = await pdbStatus(); return s.observedGeneration === 2 && s.disruptionsAllowed === 0; });
    const uids = (await members()).map((p) => p.metadata.uid).sort();
    const r = await k(['drain', NODE, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=8s'], undefined, 60_000);
    const out = r.stdout + r.stderr;
    assert.notEqual(r.code, 0, out);
    assert.match(out, /error when evicting pods\/"web-\d" -n "drain" \(will retry after 5s\): Cannot evict pod as it would violate the pod's disruption budget\./);
    assert.match(out, /global timeout reached: 8s/);
    assert.match(out, new RegExp(`unable to drain node "${NODE}"`));
    const after = await members();
    assert.deepEqual(after.map((p) => p.metadata.uid).sort(), uids);
    assert.ok(after.every((p) => !p.metadata.deletionTimestamp && isReady(p)), 'no member evicted');
    const described = await ok(['describe', 'pdb', 'web', '-n', NS]);
    assert.match(described, /Max unavailable:\s+0/);
    assert.match(described, /Allowed disruptions:\s+0/);
    await ok(['uncordon', NODE]);
  });

  /** The members' pod watch, one `at`-stamped line per event (kubectl get -w). */
  async function watchMembers(): Promise<{ stop(): Seen[] }> {
    const template = '{.type}|{.object.metadata.name}|{.object.metadata.uid}|{.object.metadata.deletionTimestamp}|{.object.spec.nodeName}|{.object.status.conditions[?(@.type=="Ready")].status}{"\\n"}';
    const child = spawn(await findKubectl(), [`--kubeconfig=${b.kubeconfig}`, `--cache-dir=${b.cacheDir}`, 'get', 'pods', '-n', NS, '-l', 'app=web', '-w', '--output-watch-events', '-o', `jsonpath=${template}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    const seen: Seen[] = [];
    let partial = '';
    child.stdout.on('data', (d: Buffer) => {
      const at = Date.now();
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        const [type, name, uid, deleting, node, ready] = line.split('|');
        if (uid) seen.push({ at, type, name, uid, deleting: !!deleting, node, ready: ready === 'True' });
      }
    });
    // The watch lists first: wait for the three members before anything is evicted.
    const deadline = Date.now() + 30_000;
    while (new Set(seen.map((s) => s.uid)).size < 3 && Date.now() < deadline) await sleep(100);
    assert.equal(new Set(seen.map((s) => s.uid)).size, 3, 'the watch sees the members');
    return { stop() { child.kill('SIGKILL'); return seen; } };
  }
});

/** The StatefulSet (readiness after 3 s, an emptyDir), its headless Service, the budget and a DaemonSet. */
function manifests(): string {
  const container = { name: 'c', image: 'host', command: ['sleep', '3600'] };
  const items = [
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: NS }, spec: { clusterIP: 'None', selector: { app: 'web' }, ports: [{ port: 80 }] } },
    {
      apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'web', namespace: NS },
      spec: {
        replicas: 3, serviceName: 'web', selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            terminationGracePeriodSeconds: 2, dnsPolicy: 'None', dnsConfig: { nameservers: ['127.0.0.1'] },
            containers: [{ ...container, readinessProbe: { exec: { command: ['true'] }, initialDelaySeconds: 3, periodSeconds: 1 }, volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }] }],
            volumes: [{ name: 'scratch', emptyDir: {} }],
          },
        },
      },
    },
    { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web', namespace: NS }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'web' } } } },
    {
      apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent', namespace: NS },
      spec: {
        selector: { matchLabels: { app: 'agent' } },
        template: { metadata: { labels: { app: 'agent' } }, spec: { terminationGracePeriodSeconds: 2, dnsPolicy: 'None', dnsConfig: { nameservers: ['127.0.0.1'] }, containers: [container] } },
      },
    },
  ];
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
}
