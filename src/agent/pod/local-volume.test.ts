import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { KubeObject } from '../../apis/object.ts';
import { ANN_PROVISIONED_BY, LOCAL_PATH_PROVISIONER } from '../../apis/volumes/annotations.ts';
import { applySizeLimit, prepareLocalVolume, refreshSizeLimit } from './local-volume.ts';

const pv = (path: string, node: string, localPath = true): KubeObject => ({
  apiVersion: 'v1', kind: 'PersistentVolume',
  metadata: { name: 'pvc-1', annotations: localPath ? { [ANN_PROVISIONED_BY]: LOCAL_PATH_PROVISIONER } : {} },
  spec: {
    capacity: { storage: '2Gi' }, local: { path },
    nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }] } },
  },
});
const pod = (node: string, sc: Record<string, unknown> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns' }, spec: { nodeName: node, securityContext: sc, containers: [] } });

test('a local-path volume of this node gets its directory (0777) on first use; anything else must exist', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-local-'));
  try {
    const path = join(dir, 'pvc-1_ns_data');
    await prepareLocalVolume(pod('n1'), pv(path, 'n1'), false);
    assert.equal((await stat(path)).mode & 0o777, 0o777);
    // Another node's volume, or a static local volume: never created here.
    await assert.rejects(prepareLocalVolume(pod('n1'), pv(join(dir, 'other'), 'n2'), false), /path ".*other" does not exist/);
    await assert.rejects(prepareLocalVolume(pod('n1'), pv(join(dir, 'static'), 'n1', false), false), /does not exist/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('fsGroup applies to local volumes', { skip: process.getuid?.() !== 0 && 'chown needs root' }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-local-'));
  try {
    const path = join(dir, 'pvc-1_ns_data');
    await prepareLocalVolume(pod('n1', { fsGroup: 4321 }), pv(path, 'n1'), false);
    const st = await stat(path);
    assert.equal(st.gid, 4321);
    assert.equal(st.mode & 0o2000, 0o2000);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('size limits: a project quota where the file system has them, nothing (and no API read) elsewhere', async () => {
  const calls: string[] = [];
  const run = async (cmd: string, args: string[]) => { calls.push(`${cmd} ${args.join(' ')}`); };
  const noQuota = () => '22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw';
  const quota = () => '22 1 254:0 / / rw,relatime shared:1 - xfs /dev/vda rw,prjquota';
  assert.equal(await applySizeLimit(pv('/srv/s/pvc-1_ns_d', 'n1'), { mountinfo: noQuota, run }), false);
  let reads = 0;
  const client = { pvc: async () => { reads++; return { metadata: {}, spec: { volumeName: 'pvc-1' } } as KubeObject; }, pv: async () => { reads++; return pv('/srv/s/pvc-1_ns_d', 'n1'); } };
  await refreshSizeLimit('ns', 'data', client, { mountinfo: noQuota, run });
  assert.equal(reads, 0);
  assert.deepEqual(calls, []);
  // xfs_quota may be absent on this machine: quotaMode then says none, which is what the node reports.
  await refreshSizeLimit('ns', 'data', client, { mountinfo: quota, run });
  assert.equal(reads, 2);
});
