import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { KubeObject } from '../../apis/object.ts';
import { ANN_BRICKS, ANN_ENGINE_ERROR, ANN_VOLUME_STATE } from '../../apis/volumes/replicated-volume.ts';
import { glusterMountArgs, isMountPoint, mountReplicatedVolume, volfileServers } from './replicated-mount.ts';

const root = mkdtempSync(join(tmpdir(), 'berth-rmount-'));
after(() => rmSync(root, { recursive: true, force: true }));
const bricks = [1, 2, 3].map((i) => ({ node: `n${i}`, address: `198.18.0.1${i}`, path: `/d/n${i}/bricks/pvc-1/brick` }));
const pv = (ann: Record<string, string>): KubeObject => ({
  apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pvc-1', annotations: { [ANN_BRICKS]: JSON.stringify(bricks), ...ann } },
  spec: { csi: { driver: 'berth.dev/replicated', volumeHandle: 'pvc-1' } },
});

test('the first brick node serves the layout, the other two are backups; read-only and the PV mount options pass through', () => {
  assert.deepEqual(glusterMountArgs(pv({}), '/p/vol', false),
    ['-t', 'glusterfs', '-o', 'backup-volfile-servers=198.18.0.12:198.18.0.13,log-file=/p/vol.log,log-level=WARNING', '198.18.0.11:/pvc-1', '/p/vol']);
  const withOpts = { ...pv({}), spec: { ...pv({}).spec, mountOptions: ['noatime'] } };
  assert.match(glusterMountArgs(withOpts, '/p/vol', true)[3], /,ro,noatime$/);
});

test('a volume its storage nodes have not made is refused with the reason; a made one is mounted once', async () => {
  const calls: string[][] = [];
  const mount = async (args: string[]) => void calls.push(args);
  await assert.rejects(mountReplicatedVolume(pv({ [ANN_ENGINE_ERROR]: 'peer down' }), join(root, 'a'), false, mount), /replicated volume pvc-1 is not ready: its storage nodes have not made it yet \(peer down\)/);
  assert.equal(calls.length, 0);
  await mountReplicatedVolume(pv({ [ANN_VOLUME_STATE]: 'Ready' }), join(root, 'a'), false, mount, async (a) => a !== '198.18.0.11');
  assert.equal(calls.length, 1);
  assert.equal(calls[0].at(-1), join(root, 'a'));
  assert.equal(calls[0].at(-2), '198.18.0.12:/pvc-1', 'a brick node that answers serves the layout');
});

test('volfile servers that answer come first, the PV\'s order kept within each group', async () => {
  assert.deepEqual(await volfileServers(pv({}), async (a) => a !== '198.18.0.11'), ['198.18.0.12', '198.18.0.13', '198.18.0.11']);
  assert.deepEqual(await volfileServers(pv({}), async () => false), ['198.18.0.11', '198.18.0.12', '198.18.0.13']);
  assert.match(glusterMountArgs(pv({}), '/p/vol', false, ['198.18.0.13', '198.18.0.11'])[3], /^backup-volfile-servers=198.18.0.11,/);
});

test('mount points are read from mountinfo, escapes decoded', () => {
  const info = '36 25 0:32 / /a\\040b rw - fuse.glusterfs 198.18.0.11:/v rw\n';
  assert.ok(isMountPoint('/a b', info));
  assert.ok(!isMountPoint('/a', info));
});
