import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../apis/object.ts';
import type { Attributes, UserInfo } from '../attributes.ts';
import { NodeAuthorizer } from './node-authorizer.ts';
import { NodeGraph, podSecretNames } from './node-graph.ts';
import { nodeIdentity } from './node-identity.ts';

const node = (n: string): UserInfo => ({ name: `system:node:${n}`, groups: ['system:nodes', 'system:authenticated'] });

function attrs(user: UserInfo, verb: string, resource: string, o: Partial<Attributes> = {}): Attributes {
  return { user, verb, isResourceRequest: true, path: '', apiGroup: '', apiVersion: 'v1', resource, subresource: '', namespace: '', name: '', ...o };
}

function pod(ns: string, name: string, nodeName: string | undefined, spec: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: ns, name }, spec: { nodeName, containers: [{ name: 'c', image: 'host' }], ...spec } };
}

const usesEverything = {
  serviceAccountName: 'runner',
  imagePullSecrets: [{ name: 'pull' }],
  containers: [{
    name: 'c', image: 'host',
    env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 'env-secret', key: 'k' } } }, { name: 'B', valueFrom: { configMapKeyRef: { name: 'env-cm', key: 'k' } } }],
    envFrom: [{ secretRef: { name: 'from-secret' } }, { configMapRef: { name: 'from-cm' } }],
  }],
  initContainers: [{ name: 'i', image: 'host', env: [{ name: 'C', valueFrom: { secretKeyRef: { name: 'init-secret', key: 'k' } } }] }],
  volumes: [
    { name: 'v1', secret: { secretName: 'vol-secret' } },
    { name: 'v2', configMap: { name: 'vol-cm' } },
    { name: 'v3', projected: { sources: [{ secret: { name: 'proj-secret' } }, { configMap: { name: 'proj-cm' } }] } },
    { name: 'v4', persistentVolumeClaim: { claimName: 'data' } },
    { name: 'scratch', ephemeral: { volumeClaimTemplate: { spec: {} } } },
  ],
};

test('node identity needs both the system:node: name and the system:nodes group', () => {
  assert.deepEqual(nodeIdentity(node('n1')), { isNode: true, nodeName: 'n1' });
  assert.deepEqual(nodeIdentity({ name: 'system:node:n1', groups: [] }), { isNode: false, nodeName: '' });
  assert.deepEqual(nodeIdentity({ name: 'jane', groups: ['system:nodes'] }), { isNode: true, nodeName: '' });
});

test('a node reads the secrets, config maps, claims and volumes of its own pods only', () => {
  const g = new NodeGraph();
  g.setPod(pod('app', 'web', 'n1', usesEverything));
  g.setPod(pod('app', 'other', 'n2', { volumes: [{ name: 'v', secret: { secretName: 'n2-secret' } }] }));
  g.setPV({ apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pv1' }, spec: { claimRef: { namespace: 'app', name: 'data' } } });
  const z = new NodeAuthorizer(g);
  const get = (n: string, resource: string, name: string, ns = 'app') => z.authorize(attrs(node(n), 'get', resource, { namespace: ns, name }));
  for (const s of ['pull', 'env-secret', 'from-secret', 'init-secret', 'vol-secret', 'proj-secret']) assert.equal(get('n1', 'secrets', s), 'allow', s);
  for (const c of ['env-cm', 'from-cm', 'vol-cm', 'proj-cm']) assert.equal(get('n1', 'configmaps', c), 'allow', c);
  assert.equal(get('n1', 'persistentvolumeclaims', 'data'), 'allow');
  assert.equal(get('n1', 'persistentvolumeclaims', 'web-scratch'), 'allow', 'the claim of an ephemeral volume');
  assert.equal(get('n1', 'persistentvolumes', 'pv1', ''), 'allow');
  assert.equal(get('n1', 'secrets', 'n2-secret'), 'no-opinion', "another node's pod's secret");
  assert.match(z.lastDenial, /no relationship found between node 'n1' and this object/);
  assert.equal(get('n2', 'secrets', 'n2-secret'), 'allow');
  assert.equal(get('n1', 'secrets', 'vol-secret', 'other-ns'), 'no-opinion', 'same name, another namespace');
  // Reads of one object only: a list needs a metadata.name selector, writes are never allowed.
  assert.equal(z.authorize(attrs(node('n1'), 'list', 'secrets', { namespace: 'app' })), 'no-opinion');
  assert.equal(z.authorize(attrs(node('n1'), 'watch', 'secrets', { namespace: 'app', fieldSelector: 'metadata.name=vol-secret' })), 'allow');
  assert.equal(z.authorize(attrs(node('n1'), 'update', 'secrets', { namespace: 'app', name: 'vol-secret' })), 'no-opinion');
  assert.equal(z.authorize(attrs(node('n1'), 'list', 'persistentvolumeclaims', { namespace: 'app', fieldSelector: 'metadata.name=data' })), 'no-opinion');
  // Token requests for its pods' ServiceAccounts.
  assert.equal(z.authorize(attrs(node('n1'), 'create', 'serviceaccounts', { namespace: 'app', name: 'runner', subresource: 'token' })), 'allow');
  assert.equal(z.authorize(attrs(node('n2'), 'create', 'serviceaccounts', { namespace: 'app', name: 'runner', subresource: 'token' })), 'no-opinion');
  assert.equal(z.authorize(attrs(node('n1'), 'get', 'serviceaccounts', { namespace: 'app', name: 'runner' })), 'no-opinion');
});

test('the graph follows pods as they are bound, moved and deleted', () => {
  const g = new NodeGraph();
  const z = new NodeAuthorizer(g);
  const readable = (n: string) => z.authorize(attrs(node(n), 'get', 'secrets', { namespace: 'app', name: 's' }));
  const p = pod('app', 'p', undefined, { volumes: [{ name: 'v', secret: { secretName: 's' } }] });
  g.setPod(p);
  assert.equal(readable('n1'), 'no-opinion', 'an unbound pod gives no node anything');
  g.setPod({ ...p, spec: { ...p.spec, nodeName: 'n1' } });
  assert.equal(readable('n1'), 'allow');
  // A second pod using the same secret on n2; removing the first leaves n2's access alone.
  const q = pod('app', 'q', 'n2', { volumes: [{ name: 'v', secret: { secretName: 's' } }] });
  g.setPod(q);
  g.deletePod(p);
  assert.equal(readable('n1'), 'no-opinion');
  assert.equal(readable('n2'), 'allow');
  g.deletePod(q);
  assert.equal(readable('n2'), 'no-opinion');
  assert.deepEqual(g.size, { pods: 0, pvs: 0 });
});

test('a reference named twice by one pod counts once; two pods of one node count apart', () => {
  const g = new NodeGraph();
  const z = new NodeAuthorizer(g);
  const readable = (name: string) => z.authorize(attrs(node('n1'), 'get', 'secrets', { namespace: 'app', name }));
  const twice = { volumes: [{ name: 'v', secret: { secretName: 's' } }], containers: [{ name: 'c', image: 'host', envFrom: [{ secretRef: { name: 's' } }] }] };
  const a = pod('app', 'a', 'n1', twice);
  const b = pod('app', 'b', 'n1', twice);
  g.setPod(a);
  g.setPod(a); // a replayed event re-files, not adds
  g.setPod(b);
  g.deletePod(a);
  assert.equal(readable('s'), 'allow', "b's reference stays");
  g.deletePod(b);
  assert.equal(readable('s'), 'no-opinion', 'a counted once: nothing is left after both go');
  // A pod with no references at all is still the node's pod.
  g.setPod(pod('app', 'bare', 'n1'));
  assert.equal(z.authorize(attrs(node('n1'), 'get', 'pods', { namespace: 'app', name: 'bare' })), 'allow');
  assert.deepEqual(g.size, { pods: 1, pvs: 0 });
});

test('pods: get its own, list/watch by spec.nodeName, status and deletes; nodes: its own', () => {
  const g = new NodeGraph();
  g.setPod(pod('app', 'mine', 'n1'));
  g.setPod(pod('app', 'theirs', 'n2'));
  const z = new NodeAuthorizer(g);
  const n1 = node('n1');
  assert.equal(z.authorize(attrs(n1, 'get', 'pods', { namespace: 'app', name: 'mine' })), 'allow');
  assert.equal(z.authorize(attrs(n1, 'get', 'pods', { namespace: 'app', name: 'theirs' })), 'no-opinion');
  assert.equal(z.authorize(attrs(n1, 'watch', 'pods', { fieldSelector: 'spec.nodeName=n1' })), 'allow');
  assert.equal(z.authorize(attrs(n1, 'list', 'pods', { fieldSelector: 'spec.nodeName==n1,status.phase!=Failed' })), 'allow');
  assert.equal(z.authorize(attrs(n1, 'list', 'pods', { fieldSelector: 'spec.nodeName=n2' })), 'no-opinion');
  assert.equal(z.authorize(attrs(n1, 'list', 'pods', {})), 'no-opinion');
  assert.equal(z.authorize(attrs(n1, 'patch', 'pods', { namespace: 'app', name: 'mine', subresource: 'status' })), 'allow');
  assert.equal(z.authorize(attrs(n1, 'update', 'pods', { namespace: 'app', name: 'mine' })), 'no-opinion', 'a node never updates a pod spec');
  assert.equal(z.authorize(attrs(n1, 'create', 'pods', { namespace: 'app', name: 'mine', subresource: 'binding' })), 'no-opinion', 'nor binds one');
  assert.equal(z.authorize(attrs(n1, 'get', 'nodes', { name: 'n1' })), 'allow');
  assert.equal(z.authorize(attrs(n1, 'get', 'nodes', { name: 'n2' })), 'no-opinion');
  assert.equal(z.authorize(attrs(n1, 'list', 'nodes', {})), 'no-opinion');
  assert.equal(z.authorize(attrs(n1, 'update', 'nodes', { name: 'n1', subresource: 'status' })), 'allow');
  assert.equal(z.authorize(attrs(n1, 'delete', 'nodes', { name: 'n1' })), 'no-opinion');
});

test('leases in kube-node-lease of its own name; other resources by the static node rules', () => {
  const z = new NodeAuthorizer(new NodeGraph());
  const n1 = node('n1');
  const lease = (verb: string, namespace: string, name: string) => z.authorize({ ...attrs(n1, verb, 'leases', { namespace, name }), apiGroup: 'coordination.k8s.io' });
  assert.equal(lease('update', 'kube-node-lease', 'n1'), 'allow');
  assert.equal(lease('create', 'kube-node-lease', ''), 'allow');
  assert.equal(lease('update', 'kube-node-lease', 'n2'), 'no-opinion');
  assert.equal(lease('get', 'kube-system', 'n1'), 'no-opinion');
  assert.equal(lease('list', 'kube-node-lease', ''), 'no-opinion');
  assert.equal(z.authorize(attrs(n1, 'create', 'events', { namespace: 'app' })), 'allow');
  assert.equal(z.authorize(attrs(n1, 'watch', 'services', {})), 'allow');
  assert.equal(z.authorize({ ...attrs(n1, 'watch', 'endpointslices', {}), apiGroup: 'discovery.k8s.io' }), 'allow');
  assert.equal(z.authorize({ ...attrs(n1, 'create', 'certificatesigningrequests', {}), apiGroup: 'certificates.k8s.io' }), 'allow');
  assert.equal(z.authorize({ ...attrs(n1, 'update', 'certificatesigningrequests', { name: 'x', subresource: 'approval' }), apiGroup: 'certificates.k8s.io' }), 'no-opinion');
  assert.equal(z.authorize(attrs(n1, 'create', 'namespaces', {})), 'no-opinion');
  assert.equal(z.authorize(attrs(n1, 'create', 'runtimeclasses', {})), 'no-opinion');
  // Not a node: no opinion at all; a node whose name is unknown: nothing either.
  assert.equal(z.authorize(attrs({ name: 'jane', groups: [] }, 'get', 'secrets', { namespace: 'app', name: 'x' })), 'no-opinion');
  assert.equal(z.authorize(attrs({ name: 'jane', groups: ['system:nodes'] }, 'create', 'events', { namespace: 'app' })), 'no-opinion');
  assert.match(z.lastDenial, /unknown node for user "jane"/);
});

test('every secret reference kind is found (podutil.VisitPodSecretNames)', () => {
  const names = podSecretNames(pod('a', 'p', 'n', {
    volumes: [
      { name: 'a', azureFile: { secretName: 'az' } }, { name: 'b', cephfs: { secretRef: { name: 'ceph' } } },
      { name: 'c', csi: { driver: 'x', nodePublishSecretRef: { name: 'csi' } } }, { name: 'd', rbd: { secretRef: { name: 'rbd' } } },
    ],
  }));
  assert.deepEqual(names.sort(), ['az', 'ceph', 'csi', 'rbd']);
});
