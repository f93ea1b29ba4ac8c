import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../apis/object.ts';
import { completeRollingUpdate, maxUnavailableOf, syncMembers, type MemberControl } from './stateful-set-control.ts';
import { claimName, newMemberPod, retentionOwnerRefs, storageMatches, identityMatches } from './stateful-set-utils.ts';

const NOW = Date.parse('2026-12-06T10:00:00Z');

function sts(spec: Record<string, unknown> = {}, status: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1', kind: 'StatefulSet',
    metadata: { name: 'web', namespace: 'ns', uid: 'set-uid', generation: 2 },
    spec: {
      replicas: 3, serviceName: 'nginx', podManagementPolicy: 'OrderedReady', selector: { matchLabels: { app: 'web' } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'host' }] } },
      volumeClaimTemplates: [{ metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      ...spec,
    },
    status,
  };
}

/** A created member at `rev`, Running and Ready (or not). */
function member(set: KubeObject, ord: number, rev: string, state: 'ready' | 'pending' | 'failed' | 'terminating' = 'ready'): KubeObject {
  const p = newMemberPod(set, ord, rev);
  p.metadata.uid = `uid-${ord}`;
  p.status = state === 'ready'
    ? { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-12-06T09:00:00Z' }] }
    : { phase: state === 'failed' ? 'Failed' : 'Pending' };
  if (state === 'terminating') { p.status = { phase: 'Running' }; p.metadata.deletionTimestamp = '2026-12-06T09:59:00Z'; }
  return p;
}

function recorder(stale = new Set<string>()): MemberControl & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    async createMember(_s, pod) { log.push(`create ${pod.metadata.name}@${pod.metadata.labels?.['controller-revision-hash']}`); },
    async createMissingClaims() {},
    async claimIsStale(_s, pod) { return stale.has(pod.metadata.name!); },
    async deleteMember(_s, pod) { log.push(`delete ${pod.metadata.name}`); },
    async updateMember(_s, pod) { log.push(`repair ${pod.metadata.name}`); },
    async syncClaimRetention() {},
  };
}

async function sync(set: KubeObject, pods: KubeObject[], control: MemberControl, current = 'web-a', update = current) {
  return syncMembers({ set, currentSet: set, updateSet: set, currentRevision: current, updateRevision: update, collisionCount: 0, pods, now: NOW }, control);
}

test('a member has the identity and storage of its ordinal', () => {
  const set = sts();
  const p = newMemberPod(set, 1, 'web-a');
  assert.equal(p.metadata.name, 'web-1');
  assert.equal(p.spec.hostname, 'web-1');
  assert.equal(p.spec.subdomain, 'nginx');
  assert.equal(p.metadata.labels?.['statefulset.kubernetes.io/pod-name'], 'web-1');
  assert.equal(p.metadata.labels?.['apps.kubernetes.io/pod-index'], '1');
  assert.deepEqual(p.spec.volumes, [{ name: 'www', persistentVolumeClaim: { claimName: 'www-web-1' } }]);
  assert.equal(claimName(set.spec.volumeClaimTemplates[0], set, 1), 'www-web-1');
  assert.ok(identityMatches(set, p) && storageMatches(set, p));
  assert.equal(p.metadata.ownerReferences?.[0].kind, 'StatefulSet');
});

test('OrderedReady creates one member at a time, each after the previous is Running and Ready', async () => {
  const set = sts();
  let c = recorder();
  await sync(set, [], c);
  assert.deepEqual(c.log, ['create web-0@web-a']);
  c = recorder();
  await sync(set, [member(set, 0, 'web-a', 'pending')], c);
  assert.deepEqual(c.log, [], 'web-0 is not ready: nothing else happens');
  c = recorder();
  await sync(set, [member(set, 0, 'web-a')], c);
  assert.deepEqual(c.log, ['create web-1@web-a']);
});

test('minReadySeconds: a member ready for less is not yet available', async () => {
  const set = sts({ minReadySeconds: 7200 });
  const c = recorder();
  await sync(set, [member(set, 0, 'web-a')], c);
  assert.deepEqual(c.log, []);
});

test('Parallel creates every member at once and ignores readiness', async () => {
  const set = sts({ podManagementPolicy: 'Parallel' });
  const c = recorder();
  await sync(set, [member(set, 1, 'web-a', 'pending')], c);
  assert.deepEqual(c.log.sort(), ['create web-0@web-a', 'create web-2@web-a']);
});

test('scale down deletes from the highest ordinal, one at a time in OrderedReady', async () => {
  const set = sts({ replicas: 1 });
  const pods = [0, 1, 2].map((o) => member(set, o, 'web-a'));
  const c = recorder();
  const status = await sync(set, pods, c);
  assert.deepEqual(c.log, ['delete web-2']);
  assert.equal(status.replicas, 3);
  const c2 = recorder();
  await sync(set, [pods[0], pods[1], member(set, 2, 'web-a', 'terminating')], c2);
  assert.deepEqual(c2.log, [], 'waits for web-2 to go before web-1');
});

test('a failed member is deleted (to come back with its name); a stale claim makes creation wait', async () => {
  const set = sts();
  const c = recorder();
  await sync(set, [member(set, 0, 'web-a', 'failed')], c);
  assert.deepEqual(c.log, ['delete web-0']);
  const c2 = recorder(new Set(['web-0']));
  await sync(set, [], c2);
  assert.deepEqual(c2.log, []);
});

test('rolling update from the top, honouring the partition; OnDelete waits', async () => {
  const at = (spec: Record<string, unknown>) => sts(spec, { currentRevision: 'web-a', currentReplicas: 3 });
  let set = at({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } });
  let c = recorder();
  await sync(set, [0, 1, 2].map((o) => member(set, o, 'web-a')), c, 'web-a', 'web-b');
  assert.deepEqual(c.log, ['delete web-2']);
  c = recorder();
  await sync(set, [member(set, 0, 'web-a'), member(set, 1, 'web-a'), member(set, 2, 'web-b')], c, 'web-a', 'web-b');
  assert.deepEqual(c.log, [], 'partition 2: ordinals 0 and 1 stay');
  set = at({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } } });
  c = recorder();
  await sync(set, [member(set, 0, 'web-a'), member(set, 1, 'web-a'), member(set, 2, 'web-b', 'pending')], c, 'web-a', 'web-b');
  assert.deepEqual(c.log, [], 'web-2 not ready yet');
  c = recorder();
  await sync(set, [member(set, 0, 'web-a'), member(set, 1, 'web-a'), member(set, 2, 'web-b')], c, 'web-a', 'web-b');
  assert.deepEqual(c.log, ['delete web-1']);
  set = at({ updateStrategy: { type: 'OnDelete' } });
  c = recorder();
  await sync(set, [0, 1, 2].map((o) => member(set, o, 'web-a')), c, 'web-a', 'web-b');
  assert.deepEqual(c.log, []);
});

test('a member recreated below the partition gets the current revision, above it the update revision', async () => {
  const set = sts({ podManagementPolicy: 'Parallel', updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } }, { currentRevision: 'web-a' });
  const c = recorder();
  await sync(set, [], c, 'web-a', 'web-b');
  assert.deepEqual(c.log.sort(), ['create web-0@web-a', 'create web-1@web-a', 'create web-2@web-b']);
});

test('status counts and completing a rolling update', async () => {
  const set = sts({}, { currentRevision: 'web-a' });
  const status = await sync(set, [member(set, 0, 'web-b'), member(set, 1, 'web-b'), member(set, 2, 'web-b')], recorder(), 'web-a', 'web-b');
  assert.deepEqual({ r: status.replicas, ready: status.readyReplicas, cur: status.currentReplicas, upd: status.updatedReplicas }, { r: 3, ready: 3, cur: 0, upd: 3 });
  completeRollingUpdate(set, status);
  assert.equal(status.currentRevision, 'web-b');
  assert.equal(status.currentReplicas, 3);
  assert.equal(status.observedGeneration, 2);
});

test('maxUnavailable: an int or a percentage of replicas, at least 1', () => {
  assert.equal(maxUnavailableOf(sts()), 1);
  assert.equal(maxUnavailableOf(sts({ replicas: 10, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '30%' } } })), 3);
  assert.equal(maxUnavailableOf(sts({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 2 } } })), 2);
});

test('PVC retention owners: Delete on set deletion owns the claim by the set; Delete on scale-down by the scaled-away pod', () => {
  const claim = (refs: KubeObject['metadata']['ownerReferences'] = []): KubeObject => ({ metadata: { name: 'www-web-1', ownerReferences: refs } });
  const pod = { ...newMemberPod(sts(), 1, 'web-a'), metadata: { ...newMemberPod(sts(), 1, 'web-a').metadata, uid: 'pod-1' } };
  assert.equal(retentionOwnerRefs(sts(), pod, claim()), undefined, 'Retain/Retain: no owners, nothing to change');
  const onDelete = sts({ persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Retain' } });
  assert.deepEqual(retentionOwnerRefs(onDelete, pod, claim())?.map((r) => r.kind), ['StatefulSet']);
  const onScale = sts({ replicas: 1, persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Delete' } });
  assert.deepEqual(retentionOwnerRefs(onScale, pod, claim())?.map((r) => r.uid), ['pod-1'], 'web-1 is out of range: owned by the pod');
  const kept = claim([{ apiVersion: 'v1', kind: 'Other', name: 'x', uid: 'other' }]);
  assert.deepEqual(retentionOwnerRefs(onDelete, pod, kept)?.map((r) => r.uid), ['other', 'set-uid'], 'other owners stay');
});
