/**
 * End to end: the local-path StorageClass on `bin/berth up` — a claim waits for its first consumer,
 * is provisioned on the pod's node (a directory under the node's local-path dir, a `local` PV pinned
 * to the node), mounted by process pods with readOnly, subPath, subPathExpr and fsGroup; protection
 * keeps a claim in use; Delete removes volume and directory (a helper pod), Retain keeps them; a claim
 * grows (the size recorded, reported as not enforced without project quotas) and cannot shrink; bad
 * classes and sizes leave clear events and conditions. Real kubectl throughout. Needs root.
 *
 * Networks: pods 10.64.0.0/24, services 10.65.0.0/16, bridge `berthlp0`, all removed at the end.
 * DNS: names outside the cluster go to 127.0.0.1:9 (nothing answers); no test asks for one.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startBerth, type BerthServer } from '../support/berth-server.ts';
import { assertFails, assertOk, parseJson } from '../support/kubectl-assert.ts';
import { waitFor as waitUntil } from '../support/wait.ts';

const BRIDGE = 'berthlp0';
const NODE = 'lp-node';

describe('local-path volumes with berth up', { concurrency: false }, () => {
  let b: BerthServer;
  let storageDir = '';
  const k = async (args: string[], input?: string) => b.kubectl(args, { input, timeoutMs: 60_000 });
  const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false | null>, ms = 60_000) => waitUntil(what, fn, ms, () => b.logs().slice(-3000));
  const apply = async (...objs: object[]) => assertOk(await k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objs })), 'apply');
  const get = async (kind: string, name: string) => parseJson<any>(assertOk(await k(['get', kind, name, '-o', 'json']), `get ${kind} ${name}`), name);
  const gone = async (kind: string, name: string, ns = 'default') => (await k(['get', kind, name, '-n', ns])).code !== 0;
  const events = async (name: string) => assertOk(await k(['get', 'events', '-A', '--field-selector', `involvedObject.name=${name}`, '-o', 'jsonpath={range .items[*]}{.reason}: {.message}{"\\n"}{end}']), 'events');
  const claim = (name: string, spec: Record<string, unknown> = {}) => ({
    apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...spec },
  });
  /** A process pod with the claim at /data (and more mounts from `extra`). */
  const pod = (name: string, claimName: string, script: string, extra: { mounts?: object[]; securityContext?: object; env?: object[] } = {}) => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name },
    spec: {
      terminationGracePeriodSeconds: 1,
      ...(extra.securityContext ? { securityContext: extra.securityContext } : {}),
      containers: [{
        name: 'c', image: 'host', command: ['sh', '-c', script], env: extra.env ?? [],
        volumeMounts: [{ name: 'd', mountPath: '/data' }, ...(extra.mounts ?? [])],
      }],
      volumes: [{ name: 'd', persistentVolumeClaim: { claimName } }],
    },
  });
  const waitRunning = (name: string) => waitFor(`${name} Running`, async () => ((await get('pod', name)).status.phase === 'Running' ? get('pod', name) : undefined));
  const volumeOf = async (claimName: string) => get('pv', (await get('pvc', claimName)).spec.volumeName);

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'the local-path tests need root (network namespaces, chown)');
    b = await startBerth({
      command: 'up',
      extraArgs: ['--cluster-cidr', '10.64.0.0/16', '--pod-cidr', '10.64.0.0/24', '--service-cidr', '10.65.0.0/16', '--bridge', BRIDGE,
        '--node-name', NODE, '--dns-upstream', '127.0.0.1:9'],
    });
    await waitFor('node Ready', async () => (await k(['get', 'node', NODE])).stdout.includes(' Ready'));
    storageDir = (await get('node', NODE)).metadata.annotations['local-path.berth.dev/dir'];
  });

  after(async () => {
    if (b) {
      await k(['delete', 'pods,pvc', '--all', '--grace-period=1', '--wait=true']).catch(() => {});
      await b.cleanup();
    }
    execFileSync('sh', ['-c', `ip link del ${BRIDGE} 2>/dev/null; ip route del unreachable 10.64.0.0/16 2>/dev/null; ip route del 10.65.0.0/16 2>/dev/null; `
      + `nft delete table inet berth-egress-${BRIDGE} 2>/dev/null; nft delete table ip berth-proxy-${BRIDGE} 2>/dev/null; nft delete table inet berth-proxy-${BRIDGE} 2>/dev/null; true`]);
  });

  test('the cluster starts with the default StorageClass local-path; the node announces its directory', async () => {
    const out = assertOk(await k(['get', 'storageclass']), 'get sc');
    assert.match(out, /^local-path \(default\)\s+berth\.dev\/local-path\s+Delete\s+WaitForFirstConsumer\s+true\s/m);
    assert.equal(storageDir, join(b.dataDir, 'agent', 'storage'));
    assert.ok(statSync(storageDir).isDirectory());
    assert.equal((await get('node', NODE)).metadata.annotations['local-path.berth.dev/quota'], 'none', 'this machine has no project quotas');
  });

  test('a claim waits for its first consumer, then binds to a volume on the pod\'s node: a directory under the node\'s local-path dir', async () => {
    await apply(claim('data'));
    await waitFor('WaitForFirstConsumer event', async () => /WaitForFirstConsumer: waiting for first consumer to be created before binding/.test(await events('data')));
    const pending = await get('pvc', 'data');
    assert.equal(pending.status.phase, 'Pending');
    assert.equal(pending.spec.storageClassName, 'local-path', 'the default class, assigned retroactively');
    assert.equal(assertOk(await k(['get', 'pv', '-o', 'name']), 'no pv yet').trim(), '');
    await apply(pod('writer', 'data', 'echo hello > /data/hello && exec sleep 3600'));
    await waitRunning('writer');
    const bound = await get('pvc', 'data');
    assert.equal(bound.status.phase, 'Bound');
    assert.equal(bound.metadata.annotations['volume.kubernetes.io/selected-node'], NODE);
    const pv = await get('pv', bound.spec.volumeName);
    assert.equal(pv.spec.local.path, join(storageDir, `${pv.metadata.name}_default_data`));
    assert.deepEqual(pv.spec.nodeAffinity.required.nodeSelectorTerms, [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [NODE] }] }]);
    assert.equal(pv.metadata.annotations['pv.kubernetes.io/provisioned-by'], 'berth.dev/local-path');
    await waitFor('the file on the host', async () => existsSync(join(pv.spec.local.path, 'hello')));
    assert.equal(readFileSync(join(pv.spec.local.path, 'hello'), 'utf8'), 'hello\n');
    const describePv = assertOk(await k(['describe', 'pv', pv.metadata.name]), 'describe pv');
    assert.match(describePv, /Type:\s+LocalVolume/);
    assert.match(describePv, new RegExp(`Term 0:\\s+kubernetes\\.io/hostname in \\[${NODE}\\]`));
    const describePvc = assertOk(await k(['describe', 'pvc', 'data']), 'describe pvc');
    assert.match(describePvc, /Used By:\s+writer/);
    assert.match(describePvc, /ProvisioningSucceeded\s+.*berth\.dev\/local-path\s+Successfully provisioned volume pvc-/);
  });

  test('readOnly, subPath, subPathExpr and fsGroup on a claim mounted by a non-root process pod', async () => {
    const script = [
      'id -G > /data/groups',
      'echo rw > /data/rw-ok',
      '(echo x > /ro/denied) 2>/dev/null && echo ro-writable || echo ro-refused',
      'echo sub > /sub/file',
      'echo expr > /expr/file',
      'ls /sub',
      'exec sleep 3600',
    ].join('; ');
    await apply(pod('mounts', 'data', script, {
      securityContext: { runAsUser: 1000, runAsGroup: 1000, fsGroup: 3000 },
      env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
      mounts: [
        { name: 'd', mountPath: '/ro', readOnly: true },
        { name: 'd', mountPath: '/sub', subPath: 'nested/dir' },
        { name: 'd', mountPath: '/expr', subPathExpr: 'per-pod/$(POD_NAME)' },
      ],
    }));
    await waitRunning('mounts');
    const dir = (await volumeOf('data')).spec.local.path;
    await waitFor('the pod wrote its files', async () => existsSync(join(dir, 'per-pod', 'mounts', 'file')));
    const logs = assertOk(await k(['logs', 'mounts']), 'logs');
    assert.match(logs, /^ro-refused$/m);
    assert.match(logs, /^file$/m, 'the subPath mount shows the subdirectory');
    assert.equal(readFileSync(join(dir, 'nested', 'dir', 'file'), 'utf8'), 'sub\n');
    assert.ok(readFileSync(join(dir, 'groups'), 'utf8').split(/\s+/).includes('3000'), 'fsGroup is a supplementary group');
    const root = statSync(dir);
    assert.equal(root.gid, 3000, 'fsGroup owns the volume');
    assert.equal(root.mode & 0o2070, 0o2070, 'group rwx and setgid');
    assert.equal(statSync(join(dir, 'rw-ok')).gid, 3000, 'new files inherit the group');
    assert.equal(statSync(join(dir, 'hello')).gid, 3000, 'existing files were given to the group');
  });

  test('a claim in use stays Terminating until its pods are gone; then Delete removes the volume and its directory', async () => {
    const pv = await volumeOf('data');
    assertOk(await k(['delete', 'pvc', 'data', '--wait=false']), 'delete pvc');
    await new Promise((r) => setTimeout(r, 1500));
    assert.match(assertOk(await k(['get', 'pvc', 'data']), 'get pvc'), /^data\s+Terminating\s/m);
    assert.ok(existsSync(pv.spec.local.path));
    assertOk(await k(['delete', 'pod', 'writer', 'mounts', '--grace-period=1', '--wait=true']), 'delete pods');
    await waitFor('claim gone', () => gone('pvc', 'data'));
    await waitFor('volume gone', () => gone('pv', pv.metadata.name));
    assert.equal(existsSync(pv.spec.local.path), false, 'the directory went with the volume');
    assert.match(await events(`helper-pod-delete-${pv.metadata.name}`), /Started: Started container helper-pod/);
      await waitFor('helper pod gone', () => gone('pod', `helper-pod-delete-${pv.metadata.name}`, 'kube-system'));
  });

  test('a Retain class keeps the volume Released and its directory with the data', async () => {
    await apply({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'local-path-retain' }, provisioner: 'berth.dev/local-path', reclaimPolicy: 'Retain', volumeBindingMode: 'WaitForFirstConsumer' });
    await apply(claim('kept', { storageClassName: 'local-path-retain' }), pod('keeper', 'kept', 'echo precious > /data/precious && exec sleep 3600'));
    await waitRunning('keeper');
    const pv = await volumeOf('kept');
    assert.equal(pv.spec.persistentVolumeReclaimPolicy, 'Retain');
    await waitFor('data written', async () => existsSync(join(pv.spec.local.path, 'precious')));
    assertOk(await k(['delete', 'pod', 'keeper', '--grace-period=1', '--wait=true']), 'delete pod');
    assertOk(await k(['delete', 'pvc', 'kept', '--wait=true']), 'delete pvc');
    await waitFor('volume Released', async () => (await get('pv', pv.metadata.name)).status.phase === 'Released');
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(readFileSync(join(pv.spec.local.path, 'precious'), 'utf8'), 'precious\n');
    assert.match(assertOk(await k(['get', 'pv', pv.metadata.name]), 'get pv'), /Retain\s+Released\s+default\/kept\s+local-path-retain/);
    assertOk(await k(['delete', 'pv', pv.metadata.name, '--wait=true']), 'an administrator deletes the volume');
    assert.ok(existsSync(pv.spec.local.path), 'Retain: the data stays on the node');
  });

  test('a claim grows (size recorded, not enforced here) and cannot shrink', async () => {
    await apply(claim('grow'), pod('grower', 'grow', 'exec sleep 3600'));
    await waitRunning('grower');
    assertOk(await k(['patch', 'pvc', 'grow', '--type=merge', '-p', '{"spec":{"resources":{"requests":{"storage":"2Gi"}}}}']), 'grow');
    await waitFor('capacity 2Gi', async () => (await get('pvc', 'grow')).status.capacity?.storage === '2Gi');
    assert.equal((await volumeOf('grow')).spec.capacity.storage, '2Gi');
    assert.match(await events('grow'), /VolumeResizeSuccessful: resize volume "pvc-[^"]+" by resizer "berth\.dev\/local-path" finished successfully \(the size is recorded, not enforced/);
    assertFails(await k(['patch', 'pvc', 'grow', '--type=merge', '-p', '{"spec":{"resources":{"requests":{"storage":"1Gi"}}}}']), 'shrink',
      /spec\.resources\.requests\.storage: Forbidden: field can not be less than previous value/);
    assertOk(await k(['delete', 'pod', 'grower', '--grace-period=1', '--wait=true']), 'delete pod');
    assertOk(await k(['delete', 'pvc', 'grow', '--wait=true']), 'delete pvc');
  });

  test('bad input: an unknown class, a claim no node can hold, an access mode a directory cannot offer, expansion a class forbids', async () => {
    await apply(claim('nowhere', { storageClassName: 'no-such-class' }), pod('homeless', 'nowhere', 'exec sleep 3600'));
    await waitFor('ProvisioningFailed', async () => /ProvisioningFailed: storageclass\.storage\.k8s\.io "no-such-class" not found/.test(await events('nowhere')));
    await waitFor('FailedScheduling', async () => /FailedScheduling: 0\/1 nodes are available: pod has unbound immediate PersistentVolumeClaims/.test(await events('homeless')));

    await apply(claim('huge', { resources: { requests: { storage: '1Pi' } } }), pod('too-big', 'huge', 'exec sleep 3600'));
    await waitFor('not enough storage', async () => /FailedScheduling: 0\/1 nodes are available: 1 node\(s\) did not have enough free storage/.test(await events('too-big')));
    const podScheduled = (await get('pod', 'too-big')).status.conditions.find((c: any) => c.type === 'PodScheduled');
    assert.equal(podScheduled.status, 'False');
    assert.equal((await get('pvc', 'huge')).status.phase, 'Pending');

    await apply(claim('shared', { accessModes: ['ReadWriteMany'] }), pod('sharer', 'shared', 'exec sleep 3600'));
    await waitFor('access mode refused', async () => /ProvisioningFailed: failed to provision volume with StorageClass "local-path": berth\.dev\/local-path only supports the ReadWriteOnce and ReadWriteOncePod access modes/.test(await events('shared')));
    await waitFor('the pod is sent back', async () => /FailedScheduling: running PreBind plugin "VolumeBinding": binding volumes: provisioning failed for PVC "shared"/.test(await events('sharer')));

    await apply({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'fixed-size' }, provisioner: 'berth.dev/local-path', volumeBindingMode: 'WaitForFirstConsumer' });
    await apply(claim('fixed', { storageClassName: 'fixed-size' }), pod('fixer', 'fixed', 'exec sleep 3600'));
    await waitRunning('fixer');
    assertOk(await k(['patch', 'pvc', 'fixed', '--type=merge', '-p', '{"spec":{"resources":{"requests":{"storage":"5Gi"}}}}']), 'ask for more');
    await waitFor('resize refused', async () => (await get('pvc', 'fixed')).status.conditions?.some((c: any) => c.type === 'ControllerResizeError'
      && /StorageClass "fixed-size" does not allow volume expansion/.test(c.message)));
    assert.match(await events('fixed'), /VolumeResizeFailed: StorageClass "fixed-size" does not allow volume expansion/);
    assert.equal((await volumeOf('fixed')).spec.capacity.storage, '1Gi');
  });
});
