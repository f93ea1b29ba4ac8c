/**
 * End to end: admission webhooks on `berth up` — a small HTTPS webhook server (python3, a process pod
 * behind a Service, its certificate from a test CA given as caBundle) validates and mutates
 * ConfigMaps in namespaces labelled `webhooks=on`, through real kubectl: a refusal with the webhook's
 * words, a mutation, a dry run, a namespace the selector leaves out, failurePolicy Fail vs Ignore
 * when the webhook is down, and a configuration the API refuses. Needs root.
 *
 * Networks: pods 10.90.0.0/24, services 10.91.0.0/16, bridge `berthwh0`, all removed at the end.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCA, issueCertificate } from '../../src/pki/certificates.ts';
import { startBerth, type BerthServer } from '../support/berth-server.ts';
import { assertFails, assertOk, parseJson } from '../support/kubectl-assert.ts';
import { findKubectl } from '../support/kubectl.ts';
import { waitFor as waitUntil } from '../support/wait.ts';

const BRIDGE = 'berthwh0';
const NODE = 'wh-node';
const HOOK_NS = 'hooks';

const HOOK_PY = `
import base64, json, ssl
from http.server import BaseHTTPRequestHandler, HTTPServer
class H(BaseHTTPRequestHandler):
    def do_POST(self):
        review = json.loads(self.rfile.read(int(self.headers['Content-Length'])))
        req = review['request']
        labels = ((req.get('object') or {}).get('metadata') or {}).get('labels') or {}
        resp = {'uid': req['uid'], 'allowed': True}
        if self.path.startswith('/validate') and labels.get('deny') == 'true':
            resp = {'uid': req['uid'], 'allowed': False, 'status': {'code': 403, 'message': 'objects labelled deny=true are refused'}}
        elif self.path.startswith('/mutate'):
            ops = [{'op': 'add', 'path': '/metadata/labels/mutated', 'value': 'yes'}] if labels else [{'op': 'add', 'path': '/metadata/labels', 'value': {'mutated': 'yes'}}]
            resp.update({'patchType': 'JSONPatch', 'patch': base64.b64encode(json.dumps(ops).encode()).decode(), 'warnings': ['the mutating webhook added mutated=yes']})
        body = json.dumps({'apiVersion': 'admission.k8s.io/v1', 'kind': 'AdmissionReview', 'response': resp}).encode()
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain('/certs/tls.crt', '/certs/tls.key')
srv = HTTPServer(('0.0.0.0', 8443), H)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
`;

describe('admission webhooks on berth up', { concurrency: false }, () => {
  let b: BerthServer;
  let work: string;
  let caBundle: string;
  const k = async (args: string[], input?: string) => b.kubectl(args, { input, timeoutMs: 60_000 });
  const ok = async (args: string[], input?: string) => assertOk(await k(args, input), `kubectl ${args.join(' ')}`);
  const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false | null>, ms = 60_000) => waitUntil(what, fn, ms, () => b.logs().slice(-3000));
  const apply = (obj: object) => ok(['apply', '-f', '-'], JSON.stringify(obj));
  const webhookConfig = (kind: 'Validating' | 'Mutating', failurePolicy: string) => ({
    apiVersion: 'admissionregistration.k8s.io/v1', kind: `${kind}WebhookConfiguration`, metadata: { name: `${kind.toLowerCase()}-e2e` },
    webhooks: [{
      name: `${kind.toLowerCase()}.berth.test`, failurePolicy, sideEffects: 'None', admissionReviewVersions: ['v1'], timeoutSeconds: 5,
      clientConfig: { service: { namespace: HOOK_NS, name: 'hook', port: 443, path: kind === 'Validating' ? '/validate' : '/mutate' }, caBundle },
      rules: [{ operations: ['CREATE', 'UPDATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'] }],
      namespaceSelector: { matchLabels: { webhooks: 'on' } },
    }],
  });
  const hookPod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'hook', namespace: HOOK_NS, labels: { app: 'hook' } }, spec: {
    terminationGracePeriodSeconds: 1,
    volumes: [{ name: 'certs', secret: { secretName: 'hook-tls' } }, { name: 'app', configMap: { name: 'hook-app' } }],
    containers: [{
      name: 'hook', image: 'host', command: ['python3', '/app/hook.py'],
      volumeMounts: [{ name: 'certs', mountPath: '/certs' }, { name: 'app', mountPath: '/app' }],
      readinessProbe: { tcpSocket: { port: 8443 }, periodSeconds: 1 },
    }],
  } };

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'the webhook suite needs root (pod networks, nftables)');
    await findKubectl();
    work = mkdtempSync(join(tmpdir(), 'berth-e2e-webhooks-'));
    b = await startBerth({
      command: 'up',
      extraArgs: ['--cluster-cidr', '10.90.0.0/16', '--pod-cidr', '10.90.0.0/24', '--service-cidr', '10.91.0.0/16', '--bridge', BRIDGE,
        '--node-name', NODE, '--dns-upstream', '127.0.0.1:9'],
    });
    await waitFor('node Ready', async () => (await k(['get', 'node', NODE])).stdout.includes(' Ready'));
    const ca = await createCA('webhook-e2e-ca');
    const serving = await issueCertificate(ca, { commonName: `hook.${HOOK_NS}.svc`, dnsNames: [`hook.${HOOK_NS}.svc`], usage: 'server', validityDays: 1 });
    caBundle = Buffer.from(ca.cert).toString('base64');
    await ok(['create', 'namespace', HOOK_NS]);
    await ok(['create', 'namespace', 'apps']);
    await ok(['label', 'namespace', 'apps', 'webhooks=on']);
    await ok(['create', 'namespace', 'plain']);
    await apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'hook-tls', namespace: HOOK_NS }, type: 'kubernetes.io/tls', stringData: { 'tls.crt': serving.cert, 'tls.key': serving.key } });
    await apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'hook-app', namespace: HOOK_NS }, data: { 'hook.py': HOOK_PY } });
    await apply(hookPod);
    await ok(['create', 'service', 'clusterip', 'hook', '-n', HOOK_NS, '--tcp=443:8443']);
    await ok(['wait', '--for=condition=Ready', `pod/hook`, '-n', HOOK_NS, '--timeout=60s']);
    await apply(webhookConfig('Validating', 'Fail'));
    await apply(webhookConfig('Mutating', 'Fail'));
  });

  after(async () => {
    if (b) {
      await k(['delete', 'validatingwebhookconfiguration,mutatingwebhookconfiguration', '--all']).catch(() => {});
      await k(['delete', 'pods', '--all', '-n', HOOK_NS, '--grace-period=1', '--wait=true']).catch(() => {});
      await b.cleanup();
    }
    if (work) rmSync(work, { recursive: true, force: true });
    execFileSync('sh', ['-c', `ip link del ${BRIDGE} 2>/dev/null; ip route del unreachable 10.90.0.0/16 2>/dev/null; ip route del 10.91.0.0/16 2>/dev/null; `
      + `nft delete table inet berth-egress-${BRIDGE} 2>/dev/null; nft delete table ip berth-proxy-${BRIDGE} 2>/dev/null; nft delete table inet berth-proxy-${BRIDGE} 2>/dev/null; true`]);
  });

  test('the validating webhook refuses a labelled ConfigMap in its words; the mutating one labels the others; kubectl shows its warning', async () => {
    // The configurations reach the server's informer within moments: retry until the webhook answers.
    const deny = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'bad', namespace: 'apps', labels: { deny: 'true' } }, data: { a: '1' } };
    const r = await waitFor('refused', async () => { const x = await k(['create', '-f', '-'], JSON.stringify(deny)); return x.code !== 0 ? x : (await k(['delete', 'configmap', 'bad', '-n', 'apps']), undefined); });
    assert.match(r.stderr, /admission webhook "validating.berth.test" denied the request: objects labelled deny=true are refused/);
    assertFails(await k(['get', 'configmap', 'bad', '-n', 'apps']), 'nothing stored', /NotFound|not found/);
    const created = await k(['create', 'configmap', 'good', '-n', 'apps', '--from-literal=a=1']);
    assertOk(created, 'create good');
    assert.match(created.stderr, /Warning: the mutating webhook added mutated=yes/);
    const cm = parseJson<any>(await ok(['get', 'configmap', 'good', '-n', 'apps', '-o', 'json']), 'good');
    assert.equal(cm.metadata.labels?.mutated, 'yes');
  });

  test('a dry run passes through the webhooks (sideEffects None) and stores nothing; a namespace the selector leaves out is not sent', async () => {
    const dry = parseJson<any>(await ok(['create', 'configmap', 'dry', '-n', 'apps', '--from-literal=a=1', '--dry-run=server', '-o', 'json']), 'dry');
    assert.equal(dry.metadata.labels?.mutated, 'yes');
    assertFails(await k(['get', 'configmap', 'dry', '-n', 'apps']), 'dry run stored nothing', /NotFound|not found/);
    await ok(['create', 'configmap', 'untouched', '-n', 'plain', '--from-literal=a=1']);
    const cm = parseJson<any>(await ok(['get', 'configmap', 'untouched', '-n', 'plain', '-o', 'json']), 'untouched');
    assert.equal(cm.metadata.labels?.mutated, undefined);
  });

  test('the webhook down: failurePolicy Fail refuses with the reason, Ignore lets writes through', async () => {
    await ok(['delete', 'pod', 'hook', '-n', HOOK_NS, '--grace-period=1', '--wait=true']);
    const failed = await waitFor('Fail refuses', async () => {
      const x = await k(['create', 'configmap', 'while-down', '-n', 'apps', '--from-literal=a=1']);
      return x.code !== 0 ? x : (await k(['delete', 'configmap', 'while-down', '-n', 'apps']), undefined);
    });
    assert.match(failed.stderr, /Internal error occurred: failed calling webhook "(mutating|validating)\.berth\.test": failed to call webhook: Post "https:\/\/hook\.hooks\.svc:443\/(mutate|validate)\?timeout=5s": no endpoints available for service "hooks\/hook"/);
    await apply(webhookConfig('Validating', 'Ignore'));
    await apply(webhookConfig('Mutating', 'Ignore'));
    await waitFor('Ignore lets it through', async () => (await k(['create', 'configmap', 'while-down', '-n', 'apps', '--from-literal=a=1'])).code === 0 || undefined);
    // Back up: the webhook is called again.
    await apply(hookPod);
    await ok(['wait', '--for=condition=Ready', 'pod/hook', '-n', HOOK_NS, '--timeout=60s']);
    await waitFor('mutated again', async () => {
      await k(['delete', 'configmap', 'again', '-n', 'apps', '--ignore-not-found']);
      await ok(['create', 'configmap', 'again', '-n', 'apps', '--from-literal=a=1']);
      return parseJson<any>(await ok(['get', 'configmap', 'again', '-n', 'apps', '-o', 'json']), 'again').metadata.labels?.mutated === 'yes' || undefined;
    });
  });

  test('a configuration the API refuses: plain http, no sideEffects, a one-segment name', async () => {
    const bad = {
      apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name: 'bad' },
      webhooks: [{ name: 'hook', clientConfig: { url: 'http://127.0.0.1:9/' }, admissionReviewVersions: ['v1'], rules: [] }],
    };
    const r = await k(['apply', '-f', '-'], JSON.stringify(bad));
    assertFails(r, 'bad configuration', /webhooks\[0\]\.name: Invalid value: "hook": should be a domain with at least three segments separated by dots/,
      /webhooks\[0\]\.clientConfig\.url: Invalid value: "http:\/\/127\.0\.0\.1:9\/": 'https' is the only allowed URL scheme/, /webhooks\[0\]\.sideEffects: Required value/);
    assertFails(await k(['get', 'validatingwebhookconfiguration', 'bad']), 'nothing stored', /NotFound|not found/);
  });
});
