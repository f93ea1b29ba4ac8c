import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../apis/object.ts';
import { RESOURCES } from '../../apis/resources.ts';
import type { UserInfo } from '../../auth/attributes.ts';
import { ApiError } from '../../errors/index.ts';
import type { AdmissionRequest, Operation } from './admission.ts';
import { forbiddenNodeLabels, NodeRestriction } from './node-restriction.ts';

const n1: UserInfo = { name: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] };
const info = (group: string, plural: string) => RESOURCES.find((r) => r.group === group && r.plural === plural)!;

const pods: Record<string, KubeObject> = {
  'app/mine': { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'app', name: 'mine', uid: 'u1' }, spec: { nodeName: 'n1' } },
  'app/theirs': { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'app', name: 'theirs', uid: 'u2' }, spec: { nodeName: 'n2' } },
};
const plugin = new NodeRestriction(async (ns, name) => pods[`${ns}/${name}`]);

function req(operation: Operation, plural: string, o: Partial<AdmissionRequest> = {}, group = ''): AdmissionRequest {
  return { operation, resource: info(group, plural), subresource: '', namespace: '', name: '', user: n1, dryRun: false, ...o };
}

async function refused(r: AdmissionRequest): Promise<string> {
  try { await plugin.validate(r); } catch (err) {
    assert.ok(err instanceof ApiError);
    assert.equal(err.http, 403, err.message);
    return err.message;
  }
  assert.fail(`admitted: ${r.operation} ${r.resource.plural}/${r.subresource} ${r.name}`);
}

const node = (labels: Record<string, string> = {}, taints: unknown[] = []): KubeObject => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', labels }, spec: { taints } });

test('a node writes only its own Node, never its taints or restricted labels', async () => {
  const base = node({ 'kubernetes.io/hostname': 'n1', 'node.kubernetes.io/instance-type': 'berth' });
  await plugin.validate(req('CREATE', 'nodes', { name: 'n1', object: base }));
  await plugin.validate(req('UPDATE', 'nodes', { name: 'n1', object: node({ ...base.metadata.labels, 'example.com/rack': '4' }), oldObject: base }));
  assert.match(await refused(req('UPDATE', 'nodes', { name: 'n2', object: base, oldObject: base })), /node "n1" is not allowed to modify node "n2"/);
  assert.match(await refused(req('UPDATE', 'nodes', { name: 'n1', object: node(base.metadata.labels, []), oldObject: node(base.metadata.labels, [{ key: 'k', effect: 'NoSchedule' }]) })),
    /node "n1" is not allowed to modify taints/);
  assert.match(await refused(req('CREATE', 'nodes', { name: 'n1', object: node({ 'node-restriction.kubernetes.io/trusted': 'yes' }) })),
    /nodes "n1" is forbidden: node "n1" is not allowed to set the following labels: node-restriction.kubernetes.io\/trusted/);
  assert.match(await refused(req('UPDATE', 'nodes', { name: 'n1', object: node({ ...base.metadata.labels, 'node-role.kubernetes.io/control-plane': '' }), oldObject: base })),
    /is not allowed to modify labels: node-role.kubernetes.io\/control-plane/);
  assert.deepEqual(forbiddenNodeLabels({ 'kubelet.kubernetes.io/x': '1', 'foo.k8s.io/y': '1', 'topology.kubernetes.io/zone': 'a' }, {}), ['foo.k8s.io/y']);
});

test("a node deletes, evicts and reports status only for its own pods, and creates only mirror pods", async () => {
  await plugin.validate(req('DELETE', 'pods', { namespace: 'app', name: 'mine', oldObject: pods['app/mine'] }));
  assert.match(await refused(req('DELETE', 'pods', { namespace: 'app', name: 'theirs', oldObject: pods['app/theirs'] })), /can only delete pods with spec.nodeName set to itself/);
  await plugin.validate(req('CREATE', 'pods', { namespace: 'app', name: 'mine', subresource: 'eviction', object: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'mine' } } }));
  assert.match(await refused(req('CREATE', 'pods', { namespace: 'app', name: 'theirs', subresource: 'eviction', object: {} as KubeObject })), /can only evict pods/);
  const status = { ...pods['app/mine'], status: { phase: 'Running' } };
  await plugin.validate(req('UPDATE', 'pods', { namespace: 'app', name: 'mine', subresource: 'status', object: status, oldObject: pods['app/mine'] }));
  assert.match(await refused(req('UPDATE', 'pods', { namespace: 'app', name: 'theirs', subresource: 'status', object: pods['app/theirs'], oldObject: pods['app/theirs'] })), /can only update pod status for pods with spec.nodeName set to itself/);
  assert.match(await refused(req('UPDATE', 'pods', { namespace: 'app', name: 'mine', subresource: 'status', object: { ...status, metadata: { ...status.metadata, labels: { a: 'b' } } }, oldObject: pods['app/mine'] })), /cannot update labels through pod status/);
  assert.match(await refused(req('UPDATE', 'pods', { namespace: 'app', name: 'mine', object: pods['app/mine'], oldObject: pods['app/mine'] })), /can only create and delete mirror pods/);
  assert.match(await refused(req('CREATE', 'pods', { namespace: 'app', name: 'x', object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' }, spec: { nodeName: 'n1' } } })), /does not have "kubernetes.io\/config.mirror" annotation/);
  const mirror = (spec: Record<string, unknown>): KubeObject => ({
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: 'm', annotations: { 'kubernetes.io/config.mirror': 'x' }, ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'nu', controller: true }] },
    spec: { nodeName: 'n1', ...spec },
  });
  await plugin.validate(req('CREATE', 'pods', { namespace: 'app', object: mirror({}) }));
  assert.match(await refused(req('CREATE', 'pods', { namespace: 'app', object: mirror({ volumes: [{ name: 'v', secret: { secretName: 's' } }] }) })), /can not create pods that reference secrets/);
});

test('token requests only for pods on the node, leases only its own, PVCs only status', async () => {
  const token = (ref: unknown) => req('CREATE', 'serviceaccounts', { namespace: 'app', name: 'default', subresource: 'token', object: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: {}, spec: { boundObjectRef: ref } } });
  await plugin.validate(token({ apiVersion: 'v1', kind: 'Pod', name: 'mine', uid: 'u1' }));
  assert.match(await refused(token(undefined)), /node requested token not bound to a pod/);
  assert.match(await refused(token({ apiVersion: 'v1', kind: 'Pod', name: 'mine' })), /without a uid/);
  assert.match(await refused(token({ apiVersion: 'v1', kind: 'Pod', name: 'mine', uid: 'old' })), /does not match the UID in record/);
  assert.match(await refused(token({ apiVersion: 'v1', kind: 'Pod', name: 'theirs', uid: 'u2' })), /bound to a pod scheduled on a different node/);
  const lease = (operation: Operation, namespace: string, name: string) => req(operation, 'leases', { namespace, name: operation === 'CREATE' ? '' : name, object: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name } } }, 'coordination.k8s.io');
  await plugin.validate(lease('CREATE', 'kube-node-lease', 'n1'));
  await plugin.validate(lease('UPDATE', 'kube-node-lease', 'n1'));
  assert.match(await refused(lease('CREATE', 'kube-node-lease', 'n2')), /same name as the requesting node/);
  assert.match(await refused(lease('UPDATE', 'default', 'n1')), /can only access leases in the "kube-node-lease" system namespace/);
  const pvc = (status: unknown, labels?: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'c', labels }, spec: {}, status });
  await plugin.validate(req('UPDATE', 'persistentvolumeclaims', { namespace: 'app', name: 'c', subresource: 'status', object: pvc({ capacity: { storage: '2Gi' } }), oldObject: pvc({}) }));
  assert.match(await refused(req('UPDATE', 'persistentvolumeclaims', { namespace: 'app', name: 'c', subresource: 'status', object: pvc({}, { a: 'b' }), oldObject: pvc({}) })), /not allowed to update fields other than/);
  assert.match(await refused(req('UPDATE', 'persistentvolumeclaims', { namespace: 'app', name: 'c', object: pvc({}), oldObject: pvc({}) })), /may only update PVC status/);
});

test('users who are not nodes pass untouched', async () => {
  await plugin.validate({ ...req('UPDATE', 'nodes', { name: 'n2', object: node({}), oldObject: node({}, [{ key: 'k' }]) }), user: { name: 'jane', groups: [] } });
  assert.match(await refused({ ...req('UPDATE', 'nodes', { name: 'n1' }), user: { name: 'x', groups: ['system:nodes'] } }), /could not determine node from user "x"/);
});
