/**
 * End to end: in-cluster access on `bin/berth up` — the `kubernetes` Service and its endpoint on the
 * node gateway, kube-root-ca.crt in every namespace, the ServiceAccount admission's projected
 * volume (a bound token, the CA, the namespace) and KUBERNETES_SERVICE_HOST/PORT plus service links
 * in the env — and unmodified in-cluster clients acting with the pod's ServiceAccount rights and no
 * more: kubectl with no kubeconfig from a process pod (the host's kubectl) and from a runc pod (the
 * same static binary mounted read-only), the Python client's load_incluster_config() (Debian's
 * python3-kubernetes) and @kubernetes/client-node's loadFromCluster() from a process pod running
 * node. Needs root.
 *
 * Networks: pods 10.58.0.0/24, services 10.59.0.0/16, bridge `berthic0`, all removed at the end.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { buildBusyboxLayout } from '../../src/agent/runtime/runc/runc.fixture.ts';
import { startBerth, type BerthServer } from '../support/berth-server.ts';
import { assertOk, parseJson } from '../support/kubectl-assert.ts';
import { findKubectl } from '../support/kubectl.ts';
import { waitFor as waitUntil } from '../support/wait.ts';

const BRIDGE = 'berthic0';
const NODE = 'ic-node';
const NS = 'incluster';
const GATEWAY = '10.58.0.1';
const API_IP = '10.59.0.1';
const REPO = join(import.meta.dirname, '..', '..');
const BERTH = join(REPO, 'bin', 'berth');
const PYTHON = '/usr/bin/python3';
const TOKEN_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

describe('in-cluster access with berth up', { concurrency: false }, () => {
  let b: BerthServer;
  let work: string;
  let kubectlBin: string;
  const k = async (args: string[], input?: string) => b.kubectl(args, { input, timeoutMs: 60_000 });
  const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false | null>, ms = 60_000) => waitUntil(what, fn, ms, () => b.logs().slice(-3000));
  const getJson = async (args: string[]) => parseJson<any>(assertOk(await k([...args, '-o', 'json']), args.join(' ')), args.join(' '));
  const apply = async (obj: object) => assertOk(await k(['apply', '-f', '-'], JSON.stringify(obj)), 'apply');
  /** Runs `argv` in a pod; stdout, stderr and the exit code (kubectl exec passes it on). */
  const exec = async (pod: string, argv: string[]) => k(['exec', '-n', NS, pod, '--', ...argv]);
  const waitReady = (name: string) => waitFor(`${name} Ready`, async () => {
    const p = await getJson(['get', 'pod', '-n', NS, name]);
    return p.status.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True') ? p : undefined;
  });
  /** A process pod running as the `reader` ServiceAccount with an emptyDir as HOME (kubectl's cache goes there). */
  const processPod = (name: string, spec: Record<string, unknown> = {}) => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS },
    spec: {
      serviceAccountName: 'reader', terminationGracePeriodSeconds: 1,
      volumes: [{ name: 'home', emptyDir: {} }],
      containers: [{
        name: 'c', image: 'host', command: ['sleep', '3600'],
        env: [{ name: 'HOME', value: `/tmp/berth-e2e-home-${name}` }],
        volumeMounts: [{ name: 'home', mountPath: `/tmp/berth-e2e-home-${name}` }],
      }],
      ...spec,
    },
  });

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'the in-cluster tests need root (pod networks, nftables, runc)');
    work = mkdtempSync(join(tmpdir(), 'berth-e2e-incluster-'));
    kubectlBin = realpathSync(await findKubectl());
    const layout = await buildBusyboxLayout(work);
    b = await startBerth({
      command: 'up',
      extraArgs: ['--cluster-cidr', '10.58.0.0/16', '--pod-cidr', '10.58.0.0/24', '--service-cidr', '10.59.0.0/16', '--bridge', BRIDGE,
        '--node-name', NODE, '--dns-upstream', '127.0.0.1:9'],
    });
    execFileSync(BERTH, ['image', 'import', '--data-dir', b.dataDir, '--repository', 'incluster.local/busybox', layout]);
    await waitFor('node Ready', async () => (await k(['get', 'node', NODE])).stdout.includes(' Ready'));
    assertOk(await k(['create', 'namespace', NS]), 'namespace');
    await waitFor('the default ServiceAccount', async () => (await k(['get', 'sa', 'default', '-n', NS])).code === 0);
    assertOk(await k(['create', 'serviceaccount', 'reader', '-n', NS]), 'reader');
    assertOk(await k(['create', 'role', 'pod-reader', '-n', NS, '--verb=get,list,watch', '--resource=pods']), 'role');
    assertOk(await k(['create', 'rolebinding', 'reader-reads-pods', '-n', NS, '--role=pod-reader', `--serviceaccount=${NS}:reader`]), 'binding');
    // A Service of the namespace, for the service links.
    assertOk(await k(['create', 'service', 'clusterip', 'web-front', '-n', NS, '--tcp=8080:8080']), 'service');
  });

  after(async () => {
    if (b) {
      await k(['delete', 'namespace', NS, '--wait=false']).catch(() => {});
      await k(['delete', 'pods', '--all', '-n', NS, '--grace-period=1', '--wait=true']).catch(() => {});
      await b.cleanup();
    }
    if (work) rmSync(work, { recursive: true, force: true });
    execFileSync('sh', ['-c', `ip link del ${BRIDGE} 2>/dev/null; ip route del unreachable 10.58.0.0/16 2>/dev/null; ip route del 10.59.0.0/16 2>/dev/null; `
      + `nft delete table inet berth-egress-${BRIDGE} 2>/dev/null; nft delete table ip berth-proxy-${BRIDGE} 2>/dev/null; nft delete table inet berth-proxy-${BRIDGE} 2>/dev/null; true`]);
  });

  test('the kubernetes Service has the first service address and the API server on the node gateway behind it', async () => {
    const svc = await getJson(['get', 'service', 'kubernetes', '-n', 'default']);
    assert.equal(svc.spec.clusterIP, API_IP);
    const port = Number(new URL(b.url).port);
    assert.deepEqual(svc.spec.ports.map((p: any) => [p.name, p.port, p.targetPort]), [['https', 443, port]]);
    const slice = await getJson(['get', 'endpointslice', 'kubernetes', '-n', 'default']);
    assert.deepEqual(slice.endpoints.map((e: any) => e.addresses[0]), [GATEWAY]);
    assert.deepEqual(slice.ports.map((p: any) => p.port), [port]);
    const ep = await getJson(['get', 'endpoints', 'kubernetes', '-n', 'default']);
    assert.deepEqual(ep.subsets[0].addresses.map((a: any) => a.ip), [GATEWAY]);
    const cm = await getJson(['get', 'configmap', 'kube-root-ca.crt', '-n', NS]);
    assert.equal(cm.data['ca.crt'], readFileSync(join(b.dataDir, 'pki', 'ca.crt'), 'utf8'));
  });

  test('a process pod: the projected token volume, the env, and kubectl with no kubeconfig acting as its ServiceAccount', async () => {
    await apply(processPod('proc'));
    const pod = await waitReady('proc');
    const vol = pod.spec.volumes.find((v: any) => v.name.startsWith('kube-api-access-'));
    assert.ok(vol, 'the ServiceAccount admission added the token volume');
    assert.deepEqual(pod.spec.containers[0].volumeMounts.find((m: any) => m.name === vol.name), { name: vol.name, mountPath: TOKEN_DIR, readOnly: true });

    const env = assertOk(await exec('proc', ['env']), 'env');
    assert.match(env, new RegExp(`^KUBERNETES_SERVICE_HOST=${API_IP.replaceAll('.', '\\.')}$`, 'm'));
    assert.match(env, /^KUBERNETES_SERVICE_PORT=443$/m);
    assert.match(env, /^KUBERNETES_PORT_443_TCP=tcp:\/\/10\.59\.0\.1:443$/m);
    assert.match(env, /^WEB_FRONT_SERVICE_PORT=8080$/m, 'a Service of the namespace is linked');

    assert.equal(assertOk(await exec('proc', ['cat', `${TOKEN_DIR}/namespace`]), 'namespace'), NS);
    assert.equal(assertOk(await exec('proc', ['cat', `${TOKEN_DIR}/ca.crt`]), 'ca.crt'), readFileSync(join(b.dataDir, 'pki', 'ca.crt'), 'utf8'));
    const token = assertOk(await exec('proc', ['cat', `${TOKEN_DIR}/token`]), 'token');
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
    assert.deepEqual(claims['kubernetes.io'].pod, { name: 'proc', uid: pod.metadata.uid }, 'bound to the pod');
    assert.equal(claims.exp - claims.iat, 3607);
    assert.equal(claims['kubernetes.io'].node.name, NODE);
    assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(`${TOKEN_DIR} `), 'the host sees no token mount');

    const kc = async (args: string[]) => exec('proc', ['kubectl', ...args]);
    const who = parseJson<any>(assertOk(await kc(['auth', 'whoami', '-o', 'json']), 'whoami in the pod'), 'whoami');
    assert.equal(who.status.userInfo.username, `system:serviceaccount:${NS}:reader`);
    assert.deepEqual(who.status.userInfo.extra['authentication.kubernetes.io/pod-name'], ['proc']);
    assert.match(assertOk(await kc(['get', 'pods', '-o', 'name']), 'get pods in the pod'), /^pod\/proc$/m);
    const denied = await kc(['get', 'secrets']);
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, new RegExp(`secrets is forbidden: User "system:serviceaccount:${NS}:reader" cannot list resource "secrets" in API group "" in the namespace "${NS}"`));
    const elsewhere = await kc(['get', 'pods', '-n', 'default']);
    assert.match(elsewhere.stderr, /pods is forbidden: User "system:serviceaccount:incluster:reader" cannot list resource "pods" in API group "" in the namespace "default"/);
    assert.match((await kc(['create', 'configmap', 'nope'])).stderr, /configmaps is forbidden/);
  });

  test('the Python client\'s load_incluster_config() and @kubernetes/client-node\'s loadFromCluster() list the namespace\'s pods', async () => {
    const py = [
      'from kubernetes import client, config',
      'config.load_incluster_config()',
      `print(" ".join(sorted(p.metadata.name for p in client.CoreV1Api().list_namespaced_pod("${NS}").items)))`,
      'try:',
      `    client.CoreV1Api().list_namespaced_secret("${NS}")`,
      'except client.exceptions.ApiException as e:',
      '    print("secrets:", e.status)',
    ].join('\n');
    const out = assertOk(await exec('proc', [PYTHON, '-c', py]), 'python in-cluster');
    assert.match(out, /^(\S+ )*proc( \S+)*$/m);
    assert.match(out, /^secrets: 403$/m);

    const entry = createRequire(join(REPO, 'package.json')).resolve('@kubernetes/client-node');
    const script = join(work, 'client-node.mjs');
    writeFileSync(script, [
      `import { KubeConfig, CoreV1Api } from ${JSON.stringify(entry)};`,
      'const kc = new KubeConfig();',
      'kc.loadFromCluster();',
      'const core = kc.makeApiClient(CoreV1Api);',
      `const pods = await core.listNamespacedPod({ namespace: ${JSON.stringify(NS)} });`,
      'console.log(pods.items.map((p) => p.metadata.name).sort().join(" "));',
      `try { await core.listNamespacedSecret({ namespace: ${JSON.stringify(NS)} }); } catch (e) { console.log("secrets:", e.code); }`,
    ].join('\n'));
    const js = assertOk(await exec('proc', [process.execPath, script]), 'client-node in-cluster');
    assert.match(js, /^(\S+ )*proc( \S+)*$/m);
    assert.match(js, /^secrets: 403$/m);
  });

  test('a runc pod: kubectl mounted read-only lists pods as the pod\'s ServiceAccount and no more', async () => {
    await apply({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'oci', namespace: NS },
      spec: {
        runtimeClassName: 'runc', serviceAccountName: 'reader', terminationGracePeriodSeconds: 1,
        volumes: [{ name: 'kubectl', hostPath: { path: kubectlBin, type: 'File' } }],
        containers: [{
          name: 'c', image: 'incluster.local/busybox:v1', imagePullPolicy: 'Never', command: ['sleep', '3600'],
          env: [{ name: 'HOME', value: '/tmp' }],
          volumeMounts: [{ name: 'kubectl', mountPath: '/usr/local/bin/kubectl', readOnly: true }],
        }],
      },
    });
    await waitReady('oci');
    assert.equal(assertOk(await exec('oci', ['sh', '-c', 'echo $KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT']), 'env').trim(), `${API_IP}:443`);
    assert.equal(assertOk(await exec('oci', ['cat', `${TOKEN_DIR}/namespace`]), 'namespace'), NS);
    assert.match(assertOk(await exec('oci', ['/usr/local/bin/kubectl', 'get', 'pods', '-o', 'name']), 'get pods in the runc pod'), /^pod\/oci$/m);
    const denied = await exec('oci', ['/usr/local/bin/kubectl', 'delete', 'pod', 'proc']);
    assert.match(denied.stderr, /pods "proc" is forbidden: User "system:serviceaccount:incluster:reader" cannot delete resource "pods"/);
  });

  test('automountServiceAccountToken: false gets no token; enableServiceLinks: false keeps only the API server\'s variables', async () => {
    await apply(processPod('quiet', { automountServiceAccountToken: false, enableServiceLinks: false }));
    const pod = await waitReady('quiet');
    assert.ok(!pod.spec.volumes.some((v: any) => v.name.startsWith('kube-api-access-')));
    const env = assertOk(await exec('quiet', ['env']), 'env');
    assert.match(env, /^KUBERNETES_SERVICE_HOST=10\.59\.0\.1$/m);
    assert.doesNotMatch(env, /WEB_FRONT_/);
    assert.notEqual((await exec('quiet', ['test', '-e', `${TOKEN_DIR}/token`])).code, 0);
  });

  test('a pod naming a ServiceAccount that does not exist is refused', async () => {
    const r = await k(['apply', '-f', '-'], JSON.stringify(processPod('ghost', { serviceAccountName: 'ghost' })));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /pods "ghost" is forbidden: error looking up service account incluster\/ghost: serviceaccount "ghost" not found/);
  });
});
