/**
 * The webhook plugins: matching (rules, scope, selectors), mutating patches in order, validating
 * refusals, failure policies, exemptions — with a fake caller — and one real HTTPS call against a
 * local server whose certificate the caBundle verifies (wrong CA, timeout, bad answers refused).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { KubeObject } from '../../../apis/object.ts';
import { RESOURCES } from '../../../apis/resources.ts';
import { ApiError } from '../../../errors/index.ts';
import { createCA, issueCertificate } from '../../../pki/certificates.ts';
import type { AdmissionRequest } from '../admission.ts';
import { ruleMatches, webhookMatches } from './matching.ts';
import { admissionReview, callWebhook, checkResponse } from './review.ts';
import { mutatingWebhookAdmission, validatingWebhookAdmission } from './webhook-admission.ts';

const info = (plural: string, group = '') => RESOURCES.find((r) => r.plural === plural && r.group === group)!;
const USER = { name: 'alice', groups: ['system:authenticated'] };
const pod = (labels: Record<string, string> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns', labels }, spec: { containers: [] } });
const req = (over: Partial<AdmissionRequest> = {}): AdmissionRequest => ({
  operation: 'CREATE', resource: info('pods'), subresource: '', namespace: 'ns', name: 'p', object: pod(), user: USER, dryRun: false, warnings: [], ...over,
});
const hook = (name: string, extra: Record<string, unknown> = {}) => ({
  name, clientConfig: { url: 'https://example.invalid/' }, rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: '*' }],
  failurePolicy: 'Fail', matchPolicy: 'Equivalent', namespaceSelector: {}, objectSelector: {}, sideEffects: 'None', timeoutSeconds: 10, admissionReviewVersions: ['v1'], ...extra,
});
const config = (name: string, webhooks: unknown[]): KubeObject => ({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'X', metadata: { name }, webhooks });
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64');

test('rules: operations, groups, resources and subresources, scope, exact versions', () => {
  const r = { operations: ['CREATE', 'UPDATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] };
  assert.ok(ruleMatches(r, req(), 'Equivalent'));
  assert.ok(!ruleMatches(r, req({ operation: 'DELETE' }), 'Equivalent'));
  assert.ok(!ruleMatches(r, req({ subresource: 'status' }), 'Equivalent'), 'pods does not cover pods/status');
  assert.ok(ruleMatches({ ...r, resources: ['pods/*'] }, req({ subresource: 'status' }), 'Equivalent'));
  assert.ok(ruleMatches({ ...r, resources: ['*/status'] }, req({ subresource: 'status' }), 'Equivalent'));
  assert.ok(!ruleMatches({ ...r, resources: ['*'] }, req({ subresource: 'status' }), 'Equivalent'));
  assert.ok(ruleMatches({ ...r, resources: ['*/*'] }, req({ subresource: 'status' }), 'Equivalent'));
  assert.ok(!ruleMatches({ ...r, apiGroups: ['apps'] }, req(), 'Equivalent'));
  assert.ok(!ruleMatches({ ...r, scope: 'Cluster' }, req(), 'Equivalent'));
  assert.ok(ruleMatches({ ...r, apiVersions: ['v2'] }, req(), 'Equivalent'));
  assert.ok(!ruleMatches({ ...r, apiVersions: ['v2'] }, req(), 'Exact'));
});

test('selectors: namespaceSelector on the namespace\'s labels (a Namespace by its own), objectSelector on the object or the old object', () => {
  const w = hook('a.b.c', { rules: [{ operations: ['*'], apiGroups: ['*'], apiVersions: ['*'], resources: ['*'] }], namespaceSelector: { matchLabels: { team: 'x' } }, objectSelector: { matchExpressions: [{ key: 'skip', operator: 'DoesNotExist' }] } });
  assert.ok(webhookMatches(w, req(), { team: 'x' }));
  assert.ok(!webhookMatches(w, req(), { team: 'y' }));
  assert.ok(!webhookMatches(w, req({ object: pod({ skip: '1' }) }), { team: 'x' }));
  assert.ok(webhookMatches(w, req({ operation: 'UPDATE', object: pod({ skip: '1' }), oldObject: pod() }), { team: 'x' }), 'the old object matches');
  assert.ok(webhookMatches(w, req({ resource: info('nodes'), namespace: '' }), undefined), 'other cluster-scoped objects ignore the namespaceSelector');
});

test('mutating: patches apply in order (configurations by name), each webhook sees the last one\'s result; warnings reach the client', async () => {
  const seen: string[] = [];
  const plugin = mutatingWebhookAdmission({
    source: { mutating: () => [config('b', [hook('second.example.com')]), config('a', [hook('first.example.com')])], validating: () => [] },
    resolve: async () => { throw new Error('unused'); }, namespaceLabels: async () => ({}),
    call: async (w, review) => {
      seen.push(`${w.name}:${JSON.stringify(review.request.object.metadata.labels)}`);
      const label = w.name.split('.')[0];
      return { uid: review.request.uid, allowed: true, patchType: 'JSONPatch', patch: b64([{ op: 'add', path: `/metadata/labels/${label}`, value: 'yes' }]), warnings: [`${label} was here`] };
    },
  });
  const r = req();
  const object = r.object!;
  await plugin.admit!(r);
  assert.deepEqual(seen, ['first.example.com:{}', 'second.example.com:{"first":"yes"}']);
  assert.deepEqual(object.metadata.labels, { first: 'yes', second: 'yes' }, 'the chain\'s object itself changed');
  assert.deepEqual(r.warnings, ['first was here', 'second was here']);
});

test('validating: a refusal carries the webhook\'s message and code; failurePolicy Ignore skips a broken webhook, Fail refuses with 500', async () => {
  const make = (policy: string, answer: (review: any) => Promise<any>) => validatingWebhookAdmission({
    source: { mutating: () => [], validating: () => [config('v', [hook('deny.example.com', { failurePolicy: policy })])] },
    resolve: async () => { throw new Error('unused'); }, namespaceLabels: async () => ({}), call: (_w, review) => answer(review),
  });
  const deny = make('Fail', async (review) => ({ uid: review.request.uid, allowed: false, status: { code: 403, message: 'label forbidden is set' } }));
  await assert.rejects(async () => deny.validate!(req()), (e: ApiError) => e.http === 403 && e.message === 'admission webhook "deny.example.com" denied the request: label forbidden is set');
  const bare = make('Fail', async (review) => ({ uid: review.request.uid, allowed: false }));
  await assert.rejects(async () => bare.validate!(req()), (e: ApiError) => e.http === 400 && /denied the request without explanation/.test(e.message));
  const down = async () => { throw new Error('connection refused'); };
  await make('Ignore', down).validate!(req());
  await assert.rejects(async () => make('Fail', down).validate!(req()), (e: ApiError) => e.http === 500 && e.message === 'Internal error occurred: failed calling webhook "deny.example.com": connection refused');
  // The configurations themselves are never sent to webhooks.
  await make('Fail', down).validate!(req({ resource: info('validatingwebhookconfigurations', 'admissionregistration.k8s.io'), namespace: '' }));
});

test('a mutating patch that changes the kind is a webhook failure, and nothing changes', async () => {
  const plugin = mutatingWebhookAdmission({
    source: { mutating: () => [config('m', [hook('kind.example.com')])], validating: () => [] },
    resolve: async () => { throw new Error('unused'); }, namespaceLabels: async () => ({}),
    call: async (_w, review) => ({ uid: review.request.uid, allowed: true, patchType: 'JSONPatch', patch: b64([{ op: 'replace', path: '/kind', value: 'Secret' }]) }),
  });
  const r = req();
  await assert.rejects(async () => plugin.admit!(r), /failed calling webhook "kind.example.com": the JSON patch cannot be applied: the patch changes apiVersion or kind/);
  assert.equal(r.object!.kind, 'Pod');
});

test('responses are checked: uid, apiVersion/kind, patchType', () => {
  const ok = { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: 'u', allowed: true } };
  assert.equal(checkResponse(JSON.stringify(ok), 'u').allowed, true);
  assert.throws(() => checkResponse(JSON.stringify(ok), 'other'), /expected response.uid="other", got "u"/);
  assert.throws(() => checkResponse(JSON.stringify({ ...ok, apiVersion: 'admission.k8s.io/v1beta1' }), 'u'), /expected webhook response of admission.k8s.io\/v1/);
  assert.throws(() => checkResponse(JSON.stringify({ ...ok, response: { uid: 'u', allowed: true, patch: 'e30=' } }), 'u'), /expected patchType "JSONPatch"/);
  assert.throws(() => checkResponse('<html>', 'u'), /not JSON/);
});

test('a real HTTPS call: verified against caBundle, by Service through the resolver; a wrong CA and a slow webhook fail', async () => {
  const ca = await createCA('webhook-ca');
  const serving = await issueCertificate(ca, { commonName: 'hook.default.svc', dnsNames: ['hook.default.svc'], usage: 'server', validityDays: 1 });
  let delayMs = 0;
  const server: Server = createServer({ cert: serving.cert, key: serving.key }, (rq, rs) => {
    let body = '';
    rq.on('data', (c) => { body += c; });
    rq.on('end', () => setTimeout(() => {
      const review = JSON.parse(body);
      rs.setHeader('content-type', 'application/json');
      rs.end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: review.request.uid, allowed: review.request.userInfo.username === 'alice', status: { message: rq.url } } }));
    }, delayMs));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const port = (server.address() as AddressInfo).port;
    const resolve = async () => ({ host: '127.0.0.1', port, serverName: 'hook.default.svc' });
    const w = { name: 'real.example.com', timeoutSeconds: 1, clientConfig: { service: { namespace: 'default', name: 'hook', port: 443, path: '/validate' }, caBundle: Buffer.from(ca.cert).toString('base64') } };
    const res = await callWebhook(w, admissionReview(req()), resolve);
    assert.equal(res.allowed, true);
    const other = await createCA('other-ca');
    await assert.rejects(callWebhook({ ...w, clientConfig: { ...w.clientConfig, caBundle: Buffer.from(other.cert).toString('base64') } }, admissionReview(req()), resolve), /failed to call webhook: Post "https:\/\/hook.default.svc\/validate\?timeout=1s"/);
    delayMs = 1500;
    await assert.rejects(callWebhook(w, admissionReview(req()), resolve), /context deadline exceeded \(timeout 1s\)/);
  } finally {
    server.closeAllConnections();
    server.close();
  }
});
