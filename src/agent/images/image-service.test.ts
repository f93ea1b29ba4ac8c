/**
 * Integration tests against Debian's docker-registry on loopback. Need root (mknod for overlay
 * whiteouts, trusted.* xattrs, mount) and docker-registry, skopeo, umoci, busybox-static.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, readFileSync, readdirSync, writeFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageService } from './image-service.ts';
import { mountRootfs, unmountRootfs, isMountPoint } from './rootfs.ts';
import { buildImage, push, sh } from './test-image.ts';
import { startAuthProxy, startRegistry, type TestRegistry } from './test-registry.ts';
import { digestHex } from './digest.ts';

const tools = ['/usr/bin/docker-registry', '/usr/bin/skopeo', '/usr/bin/umoci', '/bin/busybox'];

describe('image service against a loopback registry', () => {
  let tmp = '';
  let layout = '';
  let reg: TestRegistry;
  let svcN = 0;
  const newService = (opts = {}) => ImageService.open(join(tmp, `data-${svcN++}`), { youngContentMs: 0, ...opts });

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'these tests need root (mknod, trusted xattrs, overlay mounts)');
    for (const t of tools) assert.ok(existsSync(t), `${t} missing: apt-get install -y docker-registry skopeo umoci busybox-static`);
    tmp = await mkdtemp(join(tmpdir(), 'berth-images-'));
    layout = join(tmp, 'layout');
    await buildImage(
      layout,
      'v1',
      { 'etc/hello.txt': 'hello\n', 'etc/gone.txt': 'bye\n', 'opt/data/a.txt': 'a', 'opt/data/b.txt': 'b' },
      {
        busybox: true,
        rawLayer: { 'etc/.wh.gone.txt': '', 'etc/new.txt': 'new\n', 'opt/data/.wh..wh..opq': '', 'opt/data/c.txt': 'c' },
        config: ['--config.entrypoint', '/bin/sh', '--config.cmd', '-c', '--config.cmd', 'echo hi', '--config.env', 'FOO=bar', '--config.workingdir', '/opt', '--config.user', '1000:1000'],
      },
    );
    await buildImage(layout, 'corrupt', { 'data.bin': 'unique content for the corrupt image test '.repeat(100) });
    reg = await startRegistry(join(tmp, 'registry'));
    await push(layout, 'v1', reg.host, 'test/app');
    await push(layout, 'corrupt', reg.host, 'test/corrupt');
  });

  after(async () => {
    await reg?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  test('pull by tag: config, layers and whiteouts', async () => {
    const svc = await newService();
    const info = await svc.pull(`${reg.host}/test/app:v1`);
    assert.deepEqual(info.repoTags, [`${reg.host}/test/app:v1`]);
    assert.deepEqual(info.config.Entrypoint, ['/bin/sh']);
    assert.deepEqual(info.config.Cmd, ['-c', 'echo hi']);
    assert.ok(info.config.Env?.includes('FOO=bar'));
    assert.equal(info.config.WorkingDir, '/opt');
    assert.equal(info.config.User, '1000:1000');
    assert.equal(info.layerDirs.length, 2);
    const [l1, l2] = info.layerDirs as [string, string];
    assert.equal(readFileSync(join(l1, 'etc/hello.txt'), 'utf8'), 'hello\n');
    assert.equal(lstatSync(join(l1, 'bin/sh')).isSymbolicLink(), true);
    const wh = lstatSync(join(l2, 'etc/gone.txt'));
    assert.ok(wh.isCharacterDevice() && wh.rdev === 0, 'whiteout became a 0/0 char device');
    assert.ok(!existsSync(join(l2, 'etc/.wh.gone.txt')));
    assert.ok(!existsSync(join(l2, 'opt/data/.wh..wh..opq')));
    const opq = await sh('perl', ['-e', 'require "syscall.ph"; my $b = " " x 8; my ($p,$n)=@ARGV; my $r = syscall(&SYS_getxattr, $p, $n, $b, 8); print substr($b,0,$r) if $r > 0', join(l2, 'opt/data'), 'trusted.overlay.opaque']);
    assert.equal(opq, 'y');
    assert.deepEqual(svc.list().map((i) => i.digest), [info.digest]);
    assert.deepEqual(readdirSync(join(svc.store.root, 'tmp')), []);
  });

  test('pull by digest, index selection and IfNotPresent/Never policies', async () => {
    const svc = await newService();
    const byTag = await svc.pull(`${reg.host}/test/app:v1`);
    const svc2 = await newService();
    const byDigest = await svc2.pull(`${reg.host}/test/app@${byTag.digest}`);
    assert.equal(byDigest.id, byTag.id);
    assert.deepEqual(byDigest.repoTags, []);
    assert.deepEqual(byDigest.repoDigests, [`${reg.host}/test/app@${byTag.digest}`]);
    // a multi-platform index pointing at the same manifest for amd64 (and a bogus arm64 entry)
    const mf = readFileSync(join(svc.store.blobPath(byTag.manifestDigest)));
    const index = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: byTag.manifestDigest, size: mf.length, platform: { os: 'linux', architecture: 'arm64' } },
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: byTag.manifestDigest, size: mf.length, platform: { os: 'linux', architecture: 'amd64' } },
      ],
    };
    const put = await fetch(`http://${reg.host}/v2/test/app/manifests/multi`, {
      method: 'PUT',
      headers: { 'Content-Type': index.mediaType },
      body: JSON.stringify(index),
    });
    assert.equal(put.status, 201, await put.text());
    const multi = await svc2.ensure(`${reg.host}/test/app:multi`, 'IfNotPresent');
    assert.notEqual(multi.digest, multi.manifestDigest, 'index digest recorded as the image digest');
    assert.equal(multi.manifestDigest, byTag.manifestDigest);
    assert.equal((await svc2.ensure(`${reg.host}/test/app:multi`, 'Never')).digest, multi.digest);
    await assert.rejects(svc2.ensure(`${reg.host}/test/app:other`, 'Never'), /not present.*Never/);
  });

  test('unknown image: error carries the registry message', async () => {
    const svc = await newService();
    await assert.rejects(svc.pull(`${reg.host}/test/app:nope`), /MANIFEST_UNKNOWN|manifest unknown/);
    await assert.rejects(svc.pull(`${reg.host}/test/missing:v1`), /NAME_UNKNOWN|MANIFEST_UNKNOWN|unknown/);
  });

  test('overlay rootfs shows the merged files', async () => {
    const svc = await newService();
    const info = await svc.pull(`${reg.host}/test/app:v1`);
    const ctr = join(tmp, 'ctr1');
    const m = await mountRootfs(info.layerDirs, ctr);
    try {
      assert.ok(await isMountPoint(m.path));
      assert.equal(readFileSync(join(m.path, 'etc/hello.txt'), 'utf8'), 'hello\n');
      assert.equal(readFileSync(join(m.path, 'etc/new.txt'), 'utf8'), 'new\n');
      assert.ok(!existsSync(join(m.path, 'etc/gone.txt')), 'whited-out file hidden');
      assert.deepEqual(readdirSync(join(m.path, 'opt/data')), ['c.txt'], 'opaque dir hides lower entries');
      writeFileSync(join(m.path, 'etc/written'), 'x');
      assert.ok(existsSync(join(m.upper, 'etc/written')));
      assert.equal(await sh('chroot', [m.path, '/bin/busybox', 'cat', '/etc/hello.txt']), 'hello\n');
    } finally {
      await unmountRootfs(ctr, { remove: true });
    }
    assert.equal(await isMountPoint(m.path), false);
    assert.ok(!existsSync(m.upper));
  });

  test('concurrent pulls of one image share one download', async () => {
    const proxy = await startAuthProxy(reg.host, 'none');
    try {
      const svc = await newService();
      const ref = `${proxy.host}/test/app:v1`;
      const [a, b, c] = await Promise.all([svc.pull(ref), svc.pull(ref), svc.pull(ref)]);
      assert.equal(a, b);
      assert.equal(b, c);
      const blobGets = proxy.requests.filter((p) => p.includes('/blobs/'));
      assert.equal(blobGets.length, 3, `config + 2 layers fetched once: ${blobGets.join(' ')}`);
      assert.equal(new Set(blobGets).size, blobGets.length);
    } finally {
      await proxy.stop();
    }
  });

  test('a corrupt blob is rejected and nothing is stored', async () => {
    const svc = await newService();
    const ref = `${reg.host}/test/corrupt:corrupt`;
    const res = await fetch(`http://${reg.host}/v2/test/corrupt/manifests/corrupt`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
    const mf = (await res.json()) as { layers: { digest: string }[] };
    const layer = mf.layers[0]!.digest;
    const hex = digestHex(layer);
    const data = join(reg.storage, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
    const good = readFileSync(data);
    const bad = Buffer.from(good);
    bad[bad.length - 20] ^= 0xff;
    writeFileSync(data, bad);
    try {
      await assert.rejects(svc.pull(ref), /digest mismatch/);
      assert.equal(existsSync(svc.store.blobPath(layer)), false);
      assert.deepEqual(readdirSync(join(svc.store.root, 'tmp')), []);
      assert.deepEqual(readdirSync(join(svc.store.root, 'layers')), []);
      assert.deepEqual(svc.list(), []);
      assert.equal(await svc.get(ref), undefined);
    } finally {
      writeFileSync(data, good);
    }
    const ok = await svc.pull(ref);
    assert.equal(ok.layerDirs.length, 1);
  });

  test('basic auth: works with a pull secret, fails clearly without', async () => {
    const proxy = await startAuthProxy(reg.host, 'basic');
    try {
      const ref = `${proxy.host}/test/app:v1`;
      await assert.rejects((await newService()).pull(ref), /authentication required.*UNAUTHORIZED/);
      const wrong = { auths: { [proxy.host]: { auth: Buffer.from('alice:wrong').toString('base64') } } };
      await assert.rejects((await newService()).pull(ref, { pullSecrets: [wrong] }), /authentication failed.*401/);
      const secret = JSON.stringify({ auths: { [`http://${proxy.host}`]: { username: 'alice', password: 's3cret' } } });
      const info = await (await newService()).pull(ref, { pullSecrets: [secret] });
      assert.equal(info.layerDirs.length, 2);
    } finally {
      await proxy.stop();
    }
  });

  test('bearer token auth from the WWW-Authenticate challenge', async () => {
    const proxy = await startAuthProxy(reg.host, 'bearer');
    try {
      const ref = `${proxy.host}/test/app:v1`;
      await assert.rejects((await newService()).pull(ref), /token endpoint returned 401.*incorrect username/);
      const secret = { auths: { [proxy.host]: { auth: Buffer.from('alice:s3cret').toString('base64') } } };
      const info = await (await newService()).pull(ref, { pullSecrets: [secret] });
      assert.equal(info.config.User, '1000:1000');
    } finally {
      await proxy.stop();
    }
  });

  test('import an OCI layout (dir and tar) and a docker-archive', async () => {
    const svc = await newService();
    const fromDir = await svc.importArchive(layout, { repository: 'example.com/imported/app' });
    const v1 = fromDir.find((i) => i.repoTags.includes('example.com/imported/app:v1'));
    assert.ok(v1, JSON.stringify(fromDir.map((i) => i.repoTags)));
    assert.deepEqual(v1.config.Entrypoint, ['/bin/sh']);
    const ociTar = join(tmp, 'layout.tar');
    await sh('tar', ['-c', '-f', ociTar, '-C', layout, '.']);
    const fromTar = await (await newService()).importArchive(ociTar);
    assert.ok(fromTar.some((i) => i.repoTags.includes('localhost/layout:v1')), JSON.stringify(fromTar.map((i) => i.repoTags)));
    const archive = join(tmp, 'app.docker.tar');
    await sh('skopeo', ['copy', '--quiet', `oci:${layout}:v1`, `docker-archive:${archive}:example.com/arch/app:v2`]);
    const svc3 = await newService();
    const [d] = await svc3.importArchive(archive);
    assert.ok(d);
    assert.deepEqual(d.repoTags, ['example.com/arch/app:v2']);
    assert.equal(d.id, v1.id, 'same config digest as the original');
    assert.equal(readFileSync(join(d.layerDirs[0]!, 'etc/hello.txt'), 'utf8'), 'hello\n');
    assert.ok(lstatSync(join(d.layerDirs[1]!, 'etc/gone.txt')).isCharacterDevice());
    assert.equal((await svc3.ensure('example.com/arch/app:v2', 'Never')).id, d.id);
  });

  test('remove and gc delete unreferenced content', async () => {
    const svc = await newService();
    const app = await svc.pull(`${reg.host}/test/app:v1`);
    const cor = await svc.pull(`${reg.host}/test/corrupt:corrupt`);
    await svc.remove(`${reg.host}/test/corrupt:corrupt`);
    assert.deepEqual(svc.list().map((i) => i.digest), [app.digest]);
    assert.equal(existsSync(cor.layerDirs[0]!), false);
    await assert.rejects(svc.remove(`${reg.host}/test/corrupt:corrupt`), /not found/);
    const kept = await svc.gc(new Set([app.id]));
    assert.equal(kept.images, 0);
    assert.ok(existsSync(app.layerDirs[1]!));
    const r = await svc.gc(new Set());
    assert.equal(r.images, 1);
    assert.deepEqual(readdirSync(join(svc.store.root, 'layers')), []);
    assert.deepEqual(readdirSync(join(svc.store.root, 'blobs/sha256')), []);
  });

  test('timing: ~50 MB pull vs skopeo copy (printed, not asserted)', async () => {
    const big = join(tmp, 'big');
    await sh('sh', ['-c', `mkdir -p ${big} && head -c ${50 << 20} /dev/urandom > ${big}/blob.bin`]);
    await buildImage(layout, 'big', { 'big.bin': readFileSync(join(big, 'blob.bin')) });
    await push(layout, 'big', reg.host, 'test/big');
    const svc = await newService();
    let t = process.hrtime.bigint();
    const info = await svc.pull(`${reg.host}/test/big:big`);
    const ours = Number(process.hrtime.bigint() - t) / 1e6;
    t = process.hrtime.bigint();
    await sh('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${reg.host}/test/big:big`, `dir:${join(tmp, 'skopeo-dir')}`]);
    const theirs = Number(process.hrtime.bigint() - t) / 1e6;
    assert.equal(statSync(join(info.layerDirs[0]!, 'big.bin')).size, 50 << 20);
    console.log(`# pull ${(info.size / 1e6).toFixed(1)} MB: berth pull+unpack ${ours.toFixed(0)} ms; skopeo copy to dir (no unpack) ${theirs.toFixed(0)} ms`);
  });
});
