import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../../apis/object.ts';
import { cleanupVolumes, mountsFor, prepareVolumes, updateVolumes, type VolumeContext } from './volumes.ts';
import { ServiceAccountTokens } from './service-account-tokens.ts';
import { writeAtomic } from './atomic-writer.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

function setup() {
  const root = mkdtempSync(join(tmpdir(), 'berth-vol-'));
  const host = join(root, 'host');
  mkdirSync(join(host, 'dir'), { recursive: true });
  writeFileSync(join(host, 'file'), 'x');
  const objs = {
    cms: new Map<string, KubeObject>([['ns/cfg', { metadata: { name: 'cfg' }, data: { 'app.conf': 'a=1', other: 'o' }, binaryData: { bin: b64('\x00\x01') } }]]),
    secrets: new Map<string, KubeObject>([['ns/sec', { metadata: { name: 'sec' }, data: { password: b64('pw') } }]]),
    pvcs: new Map<string, KubeObject>([
      ['ns/bound', { metadata: { name: 'bound' }, spec: { volumeName: 'pv-host' }, status: { phase: 'Bound' } }],
      ['ns/pending', { metadata: { name: 'pending' }, spec: {}, status: { phase: 'Pending' } }],
      ['ns/nfs', { metadata: { name: 'nfs' }, spec: { volumeName: 'pv-nfs' }, status: { phase: 'Bound' } }],
    ]),
    pvs: new Map<string, KubeObject>([
      ['pv-host', { metadata: { name: 'pv-host' }, spec: { hostPath: { path: join(host, 'dir') } } }],
      ['pv-nfs', { metadata: { name: 'pv-nfs' }, spec: { nfs: { server: 's', path: '/' } } }],
    ]),
  };
  const tmpfsCalls: [string, number | undefined][] = [];
  const ctx: VolumeContext = {
    podDir: join(root, 'pod'),
    lookup: { configMap: async (ns, n) => objs.cms.get(`${ns}/${n}`), secret: async (ns, n) => objs.secrets.get(`${ns}/${n}`) },
    client: { pvc: async (ns, n) => objs.pvcs.get(`${ns}/${n}`), pv: async (n) => objs.pvs.get(n) },
    facts: { nodeName: 'node-a', podIP: '10.0.0.9' },
    mountTmpfs: async (dir, size) => void tmpfsCalls.push([dir, size]),
    // The API's answer to a TokenRequest, naming what was asked for.
    tokens: new ServiceAccountTokens(async (ns, sa, req) => ({
      ...req, status: { token: `token-of:${ns}/${sa}:${req.spec.boundObjectRef.uid}:${req.spec.expirationSeconds}`, expirationTimestamp: new Date(Date.now() + req.spec.expirationSeconds * 1000).toISOString() },
    })),
  };
  return { root, host, objs, ctx, tmpfsCalls };
}

const podWith = (volumes: Record<string, any>[], extra: Record<string, any> = {}): KubeObject => ({
  metadata: { name: 'p', namespace: 'ns', uid: 'u', labels: { app: 'a' } },
  spec: { nodeName: 'node-a', containers: [{ name: 'c', resources: { limits: { memory: '32Mi' } } }], volumes, ...extra },
});

test('emptyDir, hostPath types and PVCs', async () => {
  const { root, host, ctx, tmpfsCalls } = setup();
  try {
    const sock = net.createServer().listen(join(host, 'sock'));
    await new Promise((r) => sock.once('listening', r));
    const pod = podWith([
      { name: 'scratch', emptyDir: {} },
      { name: 'mem', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
      { name: 'mk', hostPath: { path: join(host, 'new/deep'), type: 'DirectoryOrCreate' } },
      { name: 'mkfile', hostPath: { path: join(host, 'newfile'), type: 'FileOrCreate' } },
      { name: 'isdir', hostPath: { path: join(host, 'file'), type: 'Directory' } },
      { name: 'isfile', hostPath: { path: join(host, 'file'), type: 'File' } },
      { name: 'sock', hostPath: { path: join(host, 'sock'), type: 'Socket' } },
      { name: 'notsock', hostPath: { path: join(host, 'file'), type: 'Socket' } },
      { name: 'any', hostPath: { path: '/nonexistent/x' } },
      { name: 'claim', persistentVolumeClaim: { claimName: 'bound', readOnly: true } },
      { name: 'unbound', persistentVolumeClaim: { claimName: 'pending' } },
      { name: 'remote', persistentVolumeClaim: { claimName: 'nfs' } },
      { name: 'gone', persistentVolumeClaim: { claimName: 'missing' } },
      { name: 'weird', nfs: { server: 's', path: '/' } },
    ]);
    const r = await prepareVolumes(pod, ctx);
    sock.close();
    const scratch = r.paths.get('scratch')!;
    assert.equal(scratch.hostPath, join(ctx.podDir, 'volumes/empty-dir/scratch'));
    assert.equal(statSync(scratch.hostPath).mode & 0o777, 0o777);
    assert.deepEqual(tmpfsCalls, [[join(ctx.podDir, 'volumes/empty-dir/mem'), 64 * 2 ** 20]]);
    assert.ok(statSync(join(host, 'new/deep')).isDirectory());
    assert.ok(statSync(join(host, 'newfile')).isFile());
    assert.deepEqual(r.paths.get('claim'), { hostPath: join(host, 'dir'), readOnly: true });
    assert.deepEqual(r.paths.get('any'), { hostPath: '/nonexistent/x', readOnly: false });
    assert.ok(r.paths.has('sock') && r.paths.has('isfile'));
    assert.deepEqual(r.errors, [
      `MountVolume.SetUp failed for volume "isdir" : hostPath type check failed: ${join(host, 'file')} is not a directory`,
      `MountVolume.SetUp failed for volume "notsock" : hostPath type check failed: ${join(host, 'file')} is not a socket file`,
      'MountVolume.SetUp failed for volume "unbound" : PVC ns/pending has non-bound phase ("Pending") or empty pvc.Spec.VolumeName ("")',
      'MountVolume.SetUp failed for volume "remote" : persistentvolume "pv-nfs": only hostPath and local volumes can be mounted on this node',
      'MountVolume.SetUp failed for volume "gone" : persistentvolumeclaim "missing" not found',
      'MountVolume.SetUp failed for volume "weird" : volume type nfs is not supported',
    ]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('configMap, secret, downwardAPI and projected volumes: items, modes, optional, ..data layout', async () => {
  const { root, ctx, tmpfsCalls } = setup();
  try {
    const pod = podWith([
      { name: 'cm', configMap: { name: 'cfg', defaultMode: 0o600, items: [{ key: 'app.conf', path: 'conf/app.conf', mode: 0o400 }, { key: 'other', path: 'other.txt' }] } },
      { name: 'cmall', configMap: { name: 'cfg' } },
      { name: 'sec', secret: { secretName: 'sec' } },
      { name: 'opt', configMap: { name: 'absent', optional: true } },
      { name: 'req', secret: { secretName: 'absent' } },
      { name: 'badkey', configMap: { name: 'cfg', items: [{ key: 'nope', path: 'x' }] } },
      { name: 'dapi', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }, { path: 'mem', resourceFieldRef: { containerName: 'c', resource: 'limits.memory', divisor: '1Mi' } }] } },
      { name: 'proj', projected: { defaultMode: 0o640, sources: [{ secret: { name: 'sec' } }, { downwardAPI: { items: [{ path: 'name', fieldRef: { fieldPath: 'metadata.name' } }] } }, { serviceAccountToken: { path: 'token' } }] } },
    ]);
    const r = await prepareVolumes(pod, ctx);
    // Secrets and projected volumes in memory (as the kubelet), the others on disk.
    assert.deepEqual(tmpfsCalls.map(([d]) => d), ['secret/sec', 'secret/req', 'projected/proj'].map((d) => join(ctx.podDir, 'volumes', d)));
    assert.deepEqual(r.errors, [
      'MountVolume.SetUp failed for volume "req" : secret "absent" not found',
      'MountVolume.SetUp failed for volume "badkey" : configmap references non-existent config key: nope',
    ]);
    const cm = r.paths.get('cm')!;
    assert.equal(cm.readOnly, true);
    assert.equal(readFileSync(join(cm.hostPath, 'conf/app.conf'), 'utf8'), 'a=1');
    assert.equal(statSync(join(cm.hostPath, 'conf/app.conf')).mode & 0o777, 0o400);
    assert.equal(statSync(join(cm.hostPath, 'other.txt')).mode & 0o777, 0o600);
    assert.equal(readlinkSync(join(cm.hostPath, 'conf')), '..data/conf');
    assert.match(readlinkSync(join(cm.hostPath, '..data')), /^\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\./);
    const all = r.paths.get('cmall')!.hostPath;
    assert.deepEqual(readdirSync(all).filter((n) => !n.startsWith('..')).sort(), ['app.conf', 'bin', 'other']);
    assert.deepEqual(readFileSync(join(all, 'bin')), Buffer.from([0, 1]));
    assert.equal(statSync(join(all, 'app.conf')).mode & 0o777, 0o644);
    assert.equal(readFileSync(join(r.paths.get('sec')!.hostPath, 'password'), 'utf8'), 'pw');
    assert.deepEqual(readdirSync(r.paths.get('opt')!.hostPath).filter((n) => !n.startsWith('..')), []);
    const dapi = r.paths.get('dapi')!.hostPath;
    assert.equal(readFileSync(join(dapi, 'labels'), 'utf8'), 'app="a"');
    assert.equal(readFileSync(join(dapi, 'mem'), 'utf8'), '32');
    const proj = r.paths.get('proj')!.hostPath;
    assert.equal(readFileSync(join(proj, 'password'), 'utf8'), 'pw');
    assert.equal(readFileSync(join(proj, 'name'), 'utf8'), 'p');
    assert.equal(readFileSync(join(proj, 'token'), 'utf8'), 'token-of:ns/default:u:3600', 'a TokenRequest bound to the pod, the default hour');
    assert.equal(statSync(join(proj, 'token')).mode & 0o777, 0o640);
    assert.deepEqual(r.warnings, []);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('updateVolumes swaps content atomically and only when it changed', async () => {
  const { root, ctx, objs } = setup();
  try {
    const pod = podWith([{ name: 'cm', configMap: { name: 'cfg' } }, { name: 'e', emptyDir: {} }]);
    const r = await prepareVolumes(pod, ctx);
    const dir = r.paths.get('cm')!.hostPath;
    const before = readlinkSync(join(dir, '..data'));
    assert.deepEqual(await updateVolumes(pod, ctx), { changed: [], errors: [] });
    assert.equal(readlinkSync(join(dir, '..data')), before);
    objs.cms.set('ns/cfg', { metadata: { name: 'cfg' }, data: { 'app.conf': 'a=2', added: 'new' } });
    assert.deepEqual(await updateVolumes(pod, ctx), { changed: ['cm'], errors: [] });
    assert.notEqual(readlinkSync(join(dir, '..data')), before);
    assert.equal(readFileSync(join(dir, 'app.conf'), 'utf8'), 'a=2');
    assert.equal(readFileSync(join(dir, 'added'), 'utf8'), 'new');
    assert.ok(!existsSync(join(dir, 'other')) && !existsSync(join(dir, before)));
    assert.deepEqual(readdirSync(dir).sort(), ['..data', readlinkSync(join(dir, '..data')), 'added', 'app.conf'].sort());
    await assert.rejects(writeAtomic(dir, new Map([['../escape', { data: Buffer.from(''), mode: 0o644 }]])), /must not contain '\.\.'/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('mountsFor: subPath, subPathExpr, readOnly and errors', async () => {
  const { root, ctx, host } = setup();
  try {
    const pod = podWith([{ name: 'data', emptyDir: {} }, { name: 'cm', configMap: { name: 'cfg' } }]);
    const { paths } = await prepareVolumes(pod, ctx);
    const data = paths.get('data')!.hostPath;
    const c = {
      name: 'c',
      volumeMounts: [
        { name: 'data', mountPath: '/data' },
        { name: 'data', mountPath: '/logs', subPathExpr: 'logs/$(POD)', readOnly: true },
        { name: 'cm', mountPath: '/etc/app.conf', subPath: 'app.conf' },
      ],
    };
    assert.deepEqual(mountsFor(c, paths, { POD: 'p1' }), [
      { hostPath: data, containerPath: '/data', readOnly: false },
      { hostPath: join(data, 'logs/p1'), containerPath: '/logs', readOnly: true },
      { hostPath: join(paths.get('cm')!.hostPath, 'app.conf'), containerPath: '/etc/app.conf', readOnly: true },
    ]);
    assert.ok(statSync(join(data, 'logs/p1')).isDirectory());
    assert.throws(() => mountsFor({ name: 'c', volumeMounts: [{ name: 'x', mountPath: '/x' }] }, paths), /cannot find volume "x" to mount into container "c"/);
    assert.throws(() => mountsFor({ name: 'c', volumeMounts: [{ name: 'data', mountPath: 'rel' }] }, paths), /must be absolute/);
    assert.throws(() => mountsFor({ name: 'c', volumeMounts: [{ name: 'data', mountPath: '/x', subPath: '../up' }] }, paths), /must not contain/);
    symlinkSync(host, join(data, 'out'));
    assert.throws(() => mountsFor({ name: 'c', volumeMounts: [{ name: 'data', mountPath: '/x', subPath: 'out' }] }, paths), /resolves outside the volume/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('cleanupVolumes unmounts a real tmpfs emptyDir and removes the pod dir, leaving hostPaths', async (t) => {
  const { root, ctx, host } = setup();
  try {
    delete ctx.mountTmpfs;
    const pod = podWith([{ name: 'mem', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } }, { name: 'h', hostPath: { path: join(host, 'dir') } }]);
    const r = await prepareVolumes(pod, ctx);
    if (r.errors.length) {
      t.skip(`cannot mount tmpfs here: ${r.errors[0]}`);
      return;
    }
    const mem = r.paths.get('mem')!.hostPath;
    assert.match(execFileSync('findmnt', ['-n', '-o', 'FSTYPE,OPTIONS', mem], { encoding: 'utf8' }), /^tmpfs .*size=1024k/);
    writeFileSync(join(mem, 'f'), 'x');
    // Idempotent: preparing again does not stack a second tmpfs.
    await prepareVolumes(pod, ctx);
    await cleanupVolumes(ctx.podDir);
    assert.ok(!existsSync(ctx.podDir));
    assert.ok(lstatSync(join(host, 'dir')).isDirectory());
    assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(ctx.podDir));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
